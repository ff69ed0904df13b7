"""An SLA pause "parts on order" tied to a parts order, and its automatic end (issue 17).

The technician (or dispatcher) pauses the on-site SLA with reason `parts_on_order` and names
the parts order the outlet requested (`parts_order_id`). Dispatch reads that parts order from
its own stream (`parts-order-{id}`, written by the parts service; read-only here) and accepts
the link only for a parts order of the order's maker, not meant for another service order and
not yet received. When the parts order is received, the parts watcher (services/dispatch/jobs.py)
resumes the clock: `order.sla_resumed` with cause `parts_received`, at the moment of receipt.
Pure: the parts order's events and the moments come in as arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from libs.events import catalog
from libs.events.catalog import Payload
from libs.events.decider import Fact, Rules
from services.dispatch.domain.order import Invalid, State

FIELD = "parts_order_id"


def parts_order_stream(parts_order_id: str) -> str:
    """The parts service's stream of one parts order (services/parts/domain/orders.py)."""
    return f"parts-order-{parts_order_id}"


@dataclass(frozen=True)
class PartsOrderSeen:
    """A parts order as dispatch reads it: whose it is, for which order, whether it arrived."""

    parts_order_id: str
    maker: str | None = None  # None: no such parts order
    for_order_id: str | None = None
    received_at: datetime | None = None


def evolve(state: PartsOrderSeen, data: Payload, fact: Fact) -> PartsOrderSeen:
    match data:
        case catalog.PartsOrderRequested():
            return replace(state, maker=data.maker, for_order_id=data.for_order_id)
        case catalog.PartsOrderReceived():
            return replace(state, received_at=fact.occurred_at)
    return state


def _never(_state: PartsOrderSeen, _command: None) -> Sequence[Payload]:
    return []


READER: Rules[PartsOrderSeen, None] = Rules(
    lambda stream: PartsOrderSeen(stream.removeprefix("parts-order-")), evolve, _never)


def link_check(state: State, reason: catalog.PauseReason, seen: PartsOrderSeen | None) -> None:
    """A pause may wait for a parts order only for reason parts_on_order, and only for a parts
    order of the order's maker (another maker's is as unknown as a missing one), meant for this
    order or for none in particular, and not yet received."""
    if seen is None:
        return
    if reason != "parts_on_order":
        raise Invalid(FIELD, "only a parts_on_order pause waits for a parts order")
    if seen.maker is None or seen.maker != state.maker:
        raise Invalid(FIELD, f"no parts order {seen.parts_order_id}")
    if seen.for_order_id not in (None, state.order_id):
        raise Invalid(FIELD, f"parts order {seen.parts_order_id} is for order {seen.for_order_id}")
    if seen.received_at is not None:
        raise Invalid(FIELD, f"parts order {seen.parts_order_id} was received at {seen.received_at.isoformat()}; "
                      "nothing to wait for")


def resume_at(paused_since: datetime, received_at: datetime) -> datetime:
    """When the wait ended: at the receipt, never before the pause began (a receipt that raced
    the pause ends it at once)."""
    return max(paused_since, received_at)


def resume_for_parts(state: State, parts_order_id: str) -> list[Payload]:
    """The resume a received parts order causes: only while the order's running pause waits for
    exactly that parts order (already resumed, by hand or by the visit: nothing)."""
    if state.paused_since is None or state.waiting_for != parts_order_id:
        return []
    return [catalog.OrderSlaResumed(note=f"parts order {parts_order_id} received", cause="parts_received",
                                    parts_order_id=parts_order_id)]
