"""What quality folds: an order's stream (who did the work, reviews recorded) and a month's."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from libs.events import catalog


@dataclass(frozen=True)
class OrderState:
    """What quality needs to know of an order, folded from its stream."""

    exists: bool = False
    maker: str | None = None
    provider_id: str | None = None
    outlet_id: str | None = None
    repaired_at: datetime | None = None
    reviewed: frozenset[str] = field(default_factory=frozenset)
    tier: catalog.Tier = "dealer"
    settled: bool = False  # a settled order is closed: a complaint no longer escalates it


def evolve(state: OrderState, data: catalog.Payload) -> OrderState:
    """Apply one event of the order's stream (types quality does not care about are ignored)."""
    if isinstance(data, catalog.OrderReported):
        return replace(state, exists=True, maker=data.maker, tier=data.tier)
    if isinstance(data, catalog.OrderEscalated | catalog.OrderEscalatedV1):
        return replace(state, tier=data.to_tier)
    if isinstance(data, catalog.OrderSettled | catalog.OrderSettlementReversed):
        return replace(state, settled=isinstance(data, catalog.OrderSettled))
    if isinstance(data, catalog.OrderDispatched | catalog.OrderReassigned):
        return replace(state, provider_id=data.provider_id, outlet_id=data.outlet_id)
    if isinstance(data, catalog.OrderRepaired):
        return replace(state, repaired_at=data.departed_at)
    if isinstance(data, catalog.OrderReviewed):
        return replace(state, reviewed=state.reviewed | {data.channel})
    return state


@dataclass(frozen=True)
class MonthState:
    closed: bool = False


def evolve_month(state: MonthState, data: catalog.Payload) -> MonthState:
    return MonthState(closed=True) if isinstance(data, catalog.MonthClosed) else state
