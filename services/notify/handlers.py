"""The one use case: an event of an order becomes its notifications (queued or withdrawn).

The wiring (a projection over the order events) keeps each order's `OrderContext` and recipient
ref from its `order.reported` (see `context_from_reported`) and calls `on_event` for every
event of the order, inside the projection's transaction; after the commit it sets
`outbox.wake`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import StoredEvent
from services.notify.domain.model import OrderContext, recipient_ref
from services.notify.domain.steps import actions_for
from services.notify.outbox import Outbox


def context_from_reported(data: Mapping[str, Any], key: bytes) -> tuple[OrderContext, str]:
    """What an order.reported gives the notifications: the maker, the partner's reference the
    customer knows the order by, and the customer's recipient ref (never the phone itself)."""
    context = OrderContext(maker=str(data["maker"]), external_ref=str(data["external_ref"]))
    return context, recipient_ref(str(data["customer"]["phone"]), key)


async def on_event(outbox: Outbox, conn: AsyncConnection, event: StoredEvent,
                   context: OrderContext, recipient: str, channels: Sequence[str]) -> int:
    """Queue what the event asks for on the caller's transaction; returns how many rows were new."""
    actions = actions_for(event.type, event.data, event.occurred_at, context)
    if not actions:
        return 0
    return await outbox.enqueue_on(conn, event.stream_id, recipient, context, actions, channels)
