"""The dispatch-queue read model: one row per order (its on-site SLA), one per complaint, and
one per parts order (from the parts service's events: what it holds and when it was received),
so the queue shows the parts an order waits for and the parts watcher finds the waits that ended.

Rows hold only facts from events and the (append-only) SLA policy in force when the
order was recorded, so a rebuild gives identical rows. The SLA *state* (on time, at
risk, breached) and the time left depend on the moment of reading and are computed
by the queries from these rows and the clock, never stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events import catalog
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.projection import Batched, Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert
from services.dispatch.domain import ON_SITE, SlaClock, working_seconds
from services.dispatch.domain.windows import Window, visit_late
from services.dispatch.reference import policy_for_recorded, policy_version

metadata = MetaData()

queue = Table(
    "dispatch_queue",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100), nullable=False),
    Column("category", String(100), nullable=False),
    Column("province", String(100), nullable=False),
    Column("city", String(100), nullable=False),
    Column("county", String(100), nullable=False),
    Column("provincial_capital", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # reported | dispatched | arrived | repaired
    Column("tier", String(20), nullable=False),
    Column("outlet_id", String(100)),
    Column("provider_id", String(100)),
    Column("technician_id", String(100)),
    Column("policy_version", Integer, nullable=False),
    Column("sla_started_at", UTCDateTime, nullable=False),
    Column("sla_budget_s", Float, nullable=False),
    Column("paused_s", Float, nullable=False),
    Column("paused_since", UTCDateTime),
    Column("pause_reason", String(50)),
    Column("parts_order_id", String(100)),  # the parts order the running pause waits for
    Column("due_at", UTCDateTime, nullable=False),
    Column("arrived_at", UTCDateTime),
    Column("breached_late", Boolean, nullable=False),  # arrived late, or outside its window
    Column("window_start", UTCDateTime),  # the appointment window booked with the customer
    Column("window_end", UTCDateTime),
    Column("window_missed", Boolean, nullable=False, default=False),  # visited outside the booked window
    Column("reschedules", Integer, nullable=False, default=0),  # the customer's moves of the window
    Column("eta", UTCDateTime),  # the technician is on the way, expected then
    Column("escalated", Boolean, nullable=False),  # the on-site breach has been escalated
    Column("version", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
)
Index("ix_dispatch_queue_outlet_due", queue.c.outlet_id, queue.c.due_at)
Index("ix_dispatch_queue_city_due", queue.c.city, queue.c.due_at)
Index("ix_dispatch_queue_status_due", queue.c.status, queue.c.due_at)

complaints = Table(
    "dispatch_complaints",
    metadata,
    Column("complaint_id", String(36), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("maker", String(100), nullable=False),
    Column("provider_id", String(100)),
    Column("outlet_id", String(100)),
    Column("policy_version", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("budget_s", Float, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("responded_at", UTCDateTime),
    Column("escalated", Boolean, nullable=False),
)
Index("ix_dispatch_complaints_due", complaints.c.due_at)

parts_orders = Table(
    "dispatch_parts_orders",
    metadata,
    Column("parts_order_id", String(100), primary_key=True),
    Column("maker", String(100), nullable=False),
    Column("for_order_id", String(200)),
    Column("lines", JSON, nullable=False),  # [{"part_no", "quantity"}] as requested
    Column("received_at", UTCDateTime),
)


def _stamp(event: StoredEvent) -> dict[str, int]:
    return {"version": event.version, "position": event.position}


async def _set(conn: AsyncConnection, event: StoredEvent, **values: object) -> None:
    await conn.execute(update(queue).where(queue.c.order_id == event.stream_id).values(**values, **_stamp(event)))


async def _reported_row(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderReported) -> dict[str, object]:
    policy = await policy_for_recorded(conn, data.maker, event.recorded_at)
    budget = policy.on_site_seconds(data.location.provincial_capital)
    loc = data.location
    return {
        "order_id": event.stream_id, "maker": data.maker, "category": data.product.category,
        "province": loc.province, "city": loc.city, "county": loc.county, "provincial_capital": loc.provincial_capital,
        "status": "reported", "tier": data.tier, "outlet_id": None, "provider_id": None, "technician_id": None,
        "policy_version": policy.version, "sla_started_at": event.occurred_at, "sla_budget_s": budget, "paused_s": 0.0,
        "paused_since": None, "pause_reason": None, "due_at": SlaClock(event.occurred_at, budget).due_at(policy.calendar),
        "arrived_at": None, "breached_late": False, "window_missed": False, "reschedules": 0, "eta": None,
        "escalated": False, **_stamp(event),
    }


async def on_reported(conn: AsyncConnection, items: list[tuple[StoredEvent, catalog.OrderReported]]) -> None:
    """A run of new orders in one executemany (the busy path: every order starts here).

    Plain INSERT: order.reported is version 1 of its stream and the projector's
    per-stream checkpoints never apply an event twice.
    """
    rows = [await _reported_row(conn, event, data) for event, data in items]
    await conn.execute(insert(queue), rows)


async def on_dispatched(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderDispatched) -> None:
    await _set(conn, event, status="dispatched", outlet_id=data.outlet_id, provider_id=data.provider_id,
               technician_id=data.technician_id, due_at=data.sla_due_at,
               window_start=data.window_start, window_end=data.window_end)


async def on_reassigned(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderReassigned) -> None:
    await _set(conn, event, outlet_id=data.outlet_id, provider_id=data.provider_id,
               technician_id=data.technician_id, due_at=data.sla_due_at, eta=None)


async def on_rescheduled(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderRescheduled) -> None:
    """The new window and deadline; a later window's pause (customer_rescheduled) adds its SLA time."""
    row = (await conn.execute(select(queue).where(queue.c.order_id == event.stream_id))).mappings().first()
    if row is None:
        return
    paused_s = row["paused_s"]
    if data.sla_paused_from and data.sla_paused_until:
        calendar = (await policy_version(conn, row["maker"], row["policy_version"])).calendar
        paused_s += working_seconds(data.sla_paused_from, data.sla_paused_until, calendar)
    moves = row["reschedules"] + (1 if data.previous_start else 0)
    await _set(conn, event, window_start=data.window_start, window_end=data.window_end, due_at=data.sla_due_at,
               paused_s=paused_s, reschedules=moves)


async def on_the_way(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderOnTheWay) -> None:
    await _set(conn, event, eta=data.eta)


async def on_paused(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderSlaPaused) -> None:
    await _set(conn, event, paused_since=event.occurred_at, pause_reason=data.reason, parts_order_id=data.parts_order_id)


async def on_resumed(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderSlaResumed) -> None:
    row = (await conn.execute(select(queue).where(queue.c.order_id == event.stream_id))).mappings().first()
    if row is None or row["paused_since"] is None:
        return
    calendar = (await policy_version(conn, row["maker"], row["policy_version"])).calendar
    clock = SlaClock(row["sla_started_at"], row["sla_budget_s"], row["paused_s"], row["paused_since"])
    resumed = clock.resume(event.occurred_at, calendar)  # the one SLA clock the domain keeps too
    await _set(conn, event, paused_s=resumed.paused_seconds, paused_since=None, pause_reason=None,
               parts_order_id=None, due_at=resumed.due_at(calendar))


async def on_arrived(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderArrived) -> None:
    row = (await conn.execute(select(queue.c.due_at, queue.c.window_start, queue.c.window_end)
                              .where(queue.c.order_id == event.stream_id))).first()
    late = missed = False
    if row is not None and row.due_at is not None:
        window = Window(row.window_start, row.window_end) if row.window_start and row.window_end else None
        late = visit_late(data.arrived_at, window, row.due_at)
        missed = window is not None and late
    await _set(conn, event, status="arrived", arrived_at=data.arrived_at, breached_late=late, window_missed=missed)


async def on_repaired(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderRepaired) -> None:
    await _set(conn, event, status="repaired")


async def on_escalated(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderEscalated) -> None:
    breach = data.breach if data.trigger == "sla_breach" else None
    if breach == ON_SITE:
        await _set(conn, event, tier=data.to_tier, escalated=True)
        return
    await _set(conn, event, tier=data.to_tier)
    if breach and breach.startswith("complaint:"):
        cid = breach.removeprefix("complaint:")
        await conn.execute(update(complaints).where(complaints.c.complaint_id == cid).values(escalated=True))


async def on_complaint(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintReceived) -> None:
    order = (
        await conn.execute(select(queue.c.maker, queue.c.policy_version, queue.c.provider_id, queue.c.outlet_id)
                           .where(queue.c.order_id == event.stream_id))
    ).first()
    maker, version = (order[0], order[1]) if order else (data.maker or "", 0)  # no order: the maker it names
    policy = await policy_version(conn, maker, version)
    budget = policy.complaint_seconds
    row = {
        "complaint_id": str(data.complaint_id), "order_id": event.stream_id, "maker": maker,
        "provider_id": data.provider_id or (order[2] if order else None),
        "outlet_id": data.outlet_id or (order[3] if order else None), "policy_version": version,
        "received_at": data.received_at, "budget_s": budget,
        "due_at": SlaClock(data.received_at, budget).due_at(policy.calendar), "responded_at": None, "escalated": False,
    }
    await upsert(conn, complaints, [row], ["complaint_id"])
    await _set(conn, event)


async def on_matched(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintMatched) -> None:
    """A complaint filed without an order is now about this order, charged as the event says."""
    await conn.execute(update(complaints).where(complaints.c.complaint_id == str(data.complaint_id))
                       .values(order_id=data.order_id, provider_id=data.provider_id, outlet_id=data.outlet_id))


async def on_responded(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintResponded) -> None:
    await conn.execute(update(complaints).where(complaints.c.complaint_id == str(data.complaint_id))
                       .values(responded_at=event.occurred_at))
    await _set(conn, event)


async def on_parts_requested(conn: AsyncConnection, event: StoredEvent, data: catalog.PartsOrderRequested) -> None:
    lines = [{"part_no": x.part_no, "quantity": x.quantity} for x in data.lines]
    await upsert(conn, parts_orders, [{"parts_order_id": data.parts_order_id, "maker": data.maker,
                                       "for_order_id": data.for_order_id, "lines": lines, "received_at": None}],
                 ["parts_order_id"])


async def on_parts_received(conn: AsyncConnection, event: StoredEvent, data: catalog.PartsOrderReceived) -> None:
    parts_order_id = event.stream_id.removeprefix("parts-order-")
    await conn.execute(update(parts_orders).where(parts_orders.c.parts_order_id == parts_order_id)
                       .values(received_at=event.occurred_at))


PROJECTION = Projection(
    "dispatch_queue",
    metadata,
    {
        "order.reported": Batched(on_reported),
        "order.dispatched": on_dispatched,
        "order.reassigned": on_reassigned,
        "order.sla_paused": on_paused,
        "order.sla_resumed": on_resumed,
        "order.rescheduled": on_rescheduled,
        "order.on_the_way": on_the_way,
        "order.arrived": on_arrived,
        "order.repaired": on_repaired,
        "order.escalated": on_escalated,
        "complaint.received": on_complaint,
        "complaint.responded": on_responded,
        "complaint.matched": on_matched,
        "parts_order.requested": on_parts_requested,
        "parts_order.received": on_parts_received,
    },
    revision=2,  # 2: a complaint without an order is its named maker's (was "")
)


async def booked_windows(engine: AsyncEngine, outlet_id: str, since: datetime) -> list[datetime]:
    """The window starts booked at an outlet from `since` on (open orders not yet visited)."""
    query = select(queue.c.window_start).where(
        queue.c.outlet_id == outlet_id, queue.c.window_start >= since, queue.c.arrived_at.is_(None))
    async with reader(engine).connect() as conn:
        return [row[0] for row in (await conn.execute(query)).all()]
