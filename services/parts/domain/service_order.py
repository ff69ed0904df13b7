"""A service order as the parts service sees it, folded from intake's and dispatch's events:
whose it is, where it was served, which parts the repair fitted. Read-only: parts never
appends to an order's stream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from libs.events.catalog import OrderDispatched, OrderReassigned, OrderRepaired, OrderReported, PartUsed, Payload
from libs.events.decider import Fact, Rules


@dataclass(frozen=True)
class ServiceOrder:
    version: int = 0
    maker: str | None = None
    provider_id: str | None = None
    outlet_id: str | None = None
    parts: tuple[PartUsed, ...] = ()
    repaired: bool = False


def evolve(state: ServiceOrder, data: Payload, fact: Fact) -> ServiceOrder:
    state = replace(state, version=fact.version)
    match data:
        case OrderReported():
            return replace(state, maker=data.maker)
        case OrderDispatched() | OrderReassigned():
            return replace(state, provider_id=data.provider_id, outlet_id=data.outlet_id)
        case OrderRepaired():
            return replace(state, parts=tuple(data.parts), repaired=True)
    return state


def _never(_state: ServiceOrder, _command: None) -> Sequence[Payload]:
    return []


READER: Rules[ServiceOrder, None] = Rules(lambda _s: ServiceOrder(), evolve, _never)
