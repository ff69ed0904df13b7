"""The settlement side of one order, folded from its stream: intake's report, dispatch's
assignment and repair, our settlements."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from libs.events.catalog import (
    OrderDispatched,
    OrderReassigned,
    OrderRepaired,
    OrderReported,
    OrderSettled,
    OrderSettlementReversed,
    Payload,
)
from libs.events.decider import Fact
from services.settlement.domain.pricing import RepairFacts


@dataclass(frozen=True)
class State:
    version: int = 0
    order_id: str = ""
    maker: str | None = None
    category: str = ""
    serial: str = ""
    in_warranty: bool = False
    county: str = ""
    provider_id: str | None = None
    repaired: OrderRepaired | None = None
    repaired_at: datetime | None = None  # when the order.repaired event occurred
    settlement: OrderSettled | None = None  # the settlement in force, if any

    def facts(self) -> RepairFacts | None:
        """The pricing inputs, once the order is reported, assigned and repaired."""
        if self.repaired is None or self.repaired_at is None or self.maker is None or self.provider_id is None:
            return None
        return RepairFacts(
            maker=self.maker, provider_id=self.provider_id, category=self.category, serial=self.serial,
            in_warranty=self.in_warranty, county=self.county, repaired_at=self.repaired_at,
            labour_hours=Decimal(self.repaired.labour_hours), parts=tuple(self.repaired.parts),
        )


def evolve(state: State, data: Payload, fact: Fact) -> State:
    """Fold one event of the order's stream into the state."""
    state = replace(state, version=fact.version, order_id=fact.stream_id)
    match data:
        case OrderReported():
            return replace(
                state, maker=data.maker, category=data.product.category, serial=data.product.serial,
                in_warranty=data.warranty.in_warranty, county=data.location.county,
            )
        case OrderDispatched() | OrderReassigned():
            return replace(state, provider_id=data.provider_id)
        case OrderRepaired():
            return replace(state, repaired=data, repaired_at=fact.occurred_at)
        case OrderSettled():
            return replace(state, settlement=data)
        case OrderSettlementReversed():
            return replace(state, settlement=None)
    return state
