"""The notify read model: each order as its customer sees it, and the notifications it asks for.

One row per order (`notify_orders`) from its events: the context of its `order.reported`
(maker, the partner's reference, the customer's phone; the keyed recipient ref and status
link are derived with the process's keys when notifying, so a rebuild needs no keys),
the progress, outlet, technician, appointment window, arrival estimate and visit. For every
event the handler also calls `handlers.on_event` inside the projection's transaction, so the
outbox rows commit with the checkpoint (a redelivered event queues nothing twice: the outbox
deduplicates), and the dispatcher is woken after that commit.

What a process needs for the notifications (its outbox, the recipient key, the channels, the
link settings) is bound per engine by the service's setup (`bind`); a projector with nothing
bound keeps the read model only. Events recorded more than STALE before the clock queue
nothing: a notify projection first started (or rebuilt) over old history must not message
customers about last year's repairs.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import StoredEvent
from libs.events.projection import Handler, Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert
from services.notify.handlers import context_from_reported, on_event
from services.notify.outbox import Outbox

STALE = timedelta(days=1)

metadata = MetaData()

orders = Table(
    "notify_orders",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100), nullable=False),
    Column("external_ref", String(200), nullable=False),
    Column("customer_phone", String(30), nullable=False),  # the Directory's address (sms, log)
    Column("product", String(200), nullable=False),
    Column("fault", String(500), nullable=False),
    Column("status", String(20), nullable=False),  # reported|dispatched|arrived|repaired|settled
    Column("reported_at", UTCDateTime, nullable=False),
    Column("outlet_id", String(100)),
    Column("provider_id", String(100)),
    Column("technician_id", String(100)),
    Column("dispatched_at", UTCDateTime),
    Column("sla_due_at", UTCDateTime),
    Column("window_start", UTCDateTime),
    Column("window_end", UTCDateTime),
    Column("eta", UTCDateTime),  # the technician is on the way, expected then
    Column("arrived_at", UTCDateTime),
    Column("repaired_at", UTCDateTime),
    Column("customer_charge_fen", Integer),
    Column("reviewed", Boolean, nullable=False),  # a feedback_form is recorded
)


@dataclass(frozen=True)
class Hub:
    """What this process's notify projection needs beyond the event."""

    outbox: Outbox
    recipient_key: bytes
    channels: tuple[str, ...]
    link_for: Callable[[str, datetime], str | None]


_HUBS: weakref.WeakKeyDictionary[Engine, Hub] = weakref.WeakKeyDictionary()


def bind(engine: Engine, hub: Hub) -> None:
    """Attach a runtime's hub to its engine (the sync engine under the AsyncEngine)."""
    _HUBS[engine] = hub


def _hub(conn: AsyncConnection) -> Hub | None:
    return _HUBS.get(conn.sync_engine)


def _wake_after_commit(conn: AsyncConnection, hub: Hub) -> None:
    def wake(_conn: Connection) -> None:
        hub.outbox.wake.set()

    event.listen(conn.sync_connection, "commit", wake, once=True)


async def _notify(conn: AsyncConnection, stored: StoredEvent, row: dict[str, Any] | None) -> None:
    hub = _hub(conn)
    if hub is None or row is None or stored.recorded_at < hub.outbox.clock() - STALE:
        return
    # The keyed values (the link, the recipient ref) come from this process's keys, never from
    # the row: the read model stays a function of the events alone, so a rebuild anywhere matches.
    reported = {"maker": row["maker"], "external_ref": row["external_ref"],
                "customer": {"phone": row["customer_phone"]}}
    context, recipient = context_from_reported(reported, hub.recipient_key)
    context = replace(context, status_link=hub.link_for(stored.stream_id, row["reported_at"]) or "")
    if await on_event(hub.outbox, conn, stored, context, recipient, hub.channels):
        _wake_after_commit(conn, hub)


async def _row(conn: AsyncConnection, order_id: str) -> dict[str, Any] | None:
    found = (await conn.execute(select(orders).where(orders.c.order_id == order_id))).mappings()
    first = found.first()
    return dict(first) if first else None


async def _reported(conn: AsyncConnection, stored: StoredEvent, payload: Any) -> None:
    data = payload.model_dump()
    product = data["product"]
    row = {
        "order_id": stored.stream_id, "maker": str(data["maker"]), "external_ref": str(data["external_ref"]),
        "customer_phone": str(data["customer"]["phone"])[:30],
        "product": f"{product['brand']} {product['category']} {product['model']}"[:200],
        "fault": str(data["fault"])[:500], "status": "reported",
        "reported_at": stored.occurred_at, "reviewed": False,
    }
    await upsert(conn, orders, [row], ["order_id"])
    await _notify(conn, stored, row)


def _updating(values: Callable[[StoredEvent, Any], dict[str, Any]]) -> Handler:
    """A handler that sets some columns of the order's row, then notifies."""

    async def handle(conn: AsyncConnection, stored: StoredEvent, payload: Any) -> None:
        changes = values(stored, payload.model_dump())
        if changes:
            await conn.execute(update(orders).where(orders.c.order_id == stored.stream_id)
                               .values(**changes))
        await _notify(conn, stored, await _row(conn, stored.stream_id))

    return handle


def _dispatched(stored: StoredEvent, data: Any) -> dict[str, Any]:
    return {"status": "dispatched", "outlet_id": data["outlet_id"],
            "provider_id": data["provider_id"], "technician_id": data["technician_id"],
            "dispatched_at": stored.occurred_at, "sla_due_at": _at(data["sla_due_at"]),
            "window_start": _at(data.get("window_start")), "window_end": _at(data.get("window_end"))}


def _reassigned(_stored: StoredEvent, data: Any) -> dict[str, Any]:
    return {"outlet_id": data["outlet_id"], "provider_id": data["provider_id"],
            "technician_id": data["technician_id"], "sla_due_at": _at(data["sla_due_at"]),
            "eta": None}


def _rescheduled(_stored: StoredEvent, data: Any) -> dict[str, Any]:
    return {"window_start": _at(data["window_start"]), "window_end": _at(data["window_end"]),
            "sla_due_at": _at(data["sla_due_at"])}


def _settled(_stored: StoredEvent, data: Any) -> dict[str, Any]:
    charge = int(data["total_fen"]) if data.get("payer") == "customer" else None
    return {"status": "settled", "customer_charge_fen": charge}


def _at(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


HANDLERS: dict[str, Handler] = {
    "order.reported": _reported,
    "order.dispatched": _updating(_dispatched),
    "order.reassigned": _updating(_reassigned),
    "order.rescheduled": _updating(_rescheduled),
    "order.on_the_way": _updating(lambda _s, d: {"eta": _at(d["eta"])}),
    "order.arrived": _updating(lambda _s, d: {"status": "arrived", "arrived_at": _at(d["arrived_at"])}),
    "order.repaired": _updating(lambda s, _d: {"status": "repaired", "repaired_at": s.occurred_at}),
    "order.settled": _updating(_settled),
    "order.reviewed": _updating(lambda _s, d: {"reviewed": True} if d["channel"] == "feedback_form"
                                else {}),
}

PROJECTION = Projection("notify", metadata, HANDLERS)


async def order(conn: AsyncConnection, order_id: str) -> dict[str, Any] | None:
    """The customer's view of one order (None: no such order here)."""
    return await _row(conn, order_id)
