"""The settlement side of one order: pure decide/evolve, no I/O, no clock reads.

State is folded from the order's own stream (intake's report, dispatch's assignment and
repair, our settlements). A correction never edits a settlement: it appends a reversal
and a new settlement that names the one it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

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
from libs.events.errors import InvalidInput, Refused
from services.settlement.pricing import RepairFacts, propose
from services.settlement.standards import FeeStandard


class SettlementRefused(Refused):
    """A command the order's history does not allow (409)."""


class NotRepaired(SettlementRefused):
    """Only a repaired order can be settled."""


class AlreadySettled(SettlementRefused):
    """An order is settled once; change it with a correction."""


class NotSettled(SettlementRefused):
    """There is no settlement to correct or reverse."""


class NoStandard(InvalidInput):
    """No fee standard of the maker was in force for the provider on the repair day (422)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "standard")


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


@dataclass(frozen=True)
class ApproveSettlement:
    settlement_id: UUID
    standard: FeeStandard | None
    distance_km: int | None = None


@dataclass(frozen=True)
class CorrectSettlement:
    settlement_id: UUID
    reason: str
    standard: FeeStandard | None
    distance_km: int | None = None


@dataclass(frozen=True)
class ReverseSettlement:
    reason: str


Command = ApproveSettlement | CorrectSettlement | ReverseSettlement


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


def _settle(state: State, settlement_id: UUID, standard: FeeStandard | None, distance_km: int | None,
            replaces: UUID | None = None) -> OrderSettled:
    facts = state.facts()
    if facts is None:
        raise NotRepaired(f"order {state.order_id} is not repaired (or not reported/dispatched)")
    if standard is None:
        raise NoStandard(f"no fee standard of {facts.maker} in force for provider {facts.provider_id} "
                         f"on {facts.repaired_at.date()}")
    proposal = propose(facts, standard, distance_km)
    return OrderSettled(
        settlement_id=settlement_id, provider_id=facts.provider_id, maker=facts.maker, payer=proposal.payer,
        standard_id=proposal.standard_id, lines=list(proposal.lines), total_fen=proposal.total_fen, replaces=replaces,
    )


def decide(state: State, command: Command) -> list[Payload]:
    """The events a command produces, or a SettlementRefused."""
    match command:
        case ApproveSettlement():
            if state.settlement is not None:
                raise AlreadySettled(f"order {state.order_id} is already settled "
                                     f"({state.settlement.settlement_id}); post a correction instead")
            return [_settle(state, command.settlement_id, command.standard, command.distance_km)]
        case CorrectSettlement():
            current = _current(state)
            new = _settle(state, command.settlement_id, command.standard, command.distance_km, current.settlement_id)
            return [OrderSettlementReversed(settlement_id=current.settlement_id, reason=command.reason), new]
        case ReverseSettlement():
            current = _current(state)
            return [OrderSettlementReversed(settlement_id=current.settlement_id, reason=command.reason)]


def _current(state: State) -> OrderSettled:
    if state.settlement is None:
        raise NotSettled(f"order {state.order_id} has no settlement in force")
    return state.settlement


class SettlementDecider:
    """The settlement rules as a `libs.events.command.Decider` over an order's stream."""

    def initial(self, stream_id: str) -> State:
        return State(order_id=stream_id)

    def evolve(self, state: State, payload: Payload, fact: Fact) -> State:
        return evolve(state, payload, fact)

    def decide(self, state: State, command: Command) -> list[Payload]:
        try:
            return decide(state, command)
        except SettlementRefused as exc:
            exc.extra.setdefault("order_id", state.order_id)
            raise


DECIDER = SettlementDecider()
