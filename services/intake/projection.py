"""Intake's read models: the partner's order list and the platform's references.

Rebuildable: every value comes from the events (occurred_at, position, data), never
from the wall clock, so a rebuild from the store gives identical rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import catalog
from libs.events.envelope import StoredEvent
from libs.events.projection import Handler, Projection
from libs.events.schema import Position, UTCDateTime
from libs.events.sqlutil import upsert
from services.intake.domain import STATUS_BY_EVENT

metadata = MetaData()

orders = Table(
    "intake_orders",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("partner_id", String(100)),
    Column("platform_id", String(100)),
    Column("channel", String(20), nullable=False),
    Column("external_ref", String(200), nullable=False),
    Column("maker", String(100), nullable=False),
    Column("province", String(50), nullable=False),
    Column("city", String(50), nullable=False),
    Column("customer_phone", String(30), nullable=False),
    Column("serial", String(100), nullable=False),
    Column("in_warranty", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("tier", String(20), nullable=False),
    Column("complaints", Integer, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_position", Position, nullable=False),
)
Index("ix_intake_orders_partner", orders.c.partner_id, orders.c.reported_at, orders.c.order_id)
Index("ix_intake_orders_phone", orders.c.customer_phone, orders.c.serial)

platform_refs = Table(
    "intake_platform_refs",
    metadata,
    Column("platform_id", String(100), primary_key=True),
    Column("platform_ref", String(200), primary_key=True),
    Column("order_id", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),  # repair | complaint
    Column("position", Position, nullable=False),
)

matched = Table(  # complaints filed without an order, matched to one later (complaint.matched)
    "intake_matched_complaints",
    metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
)

STATUS = {t: status for t, status in STATUS_BY_EVENT.items() if t != "order.reported"}


async def _touch(conn: AsyncConnection, event: StoredEvent, **values: Any) -> None:
    await conn.execute(
        update(orders).where(orders.c.order_id == event.stream_id).values(
            updated_at=event.occurred_at, version=event.version, last_position=event.position, **values)
    )


async def on_reported(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderReported) -> None:
    row = {
        "order_id": event.stream_id, "partner_id": data.partner_id, "platform_id": data.platform_id,
        "channel": data.channel, "external_ref": data.external_ref, "maker": data.maker,
        "province": data.location.province, "city": data.location.city, "customer_phone": data.customer.phone,
        "serial": data.product.serial, "in_warranty": data.warranty.in_warranty, "status": "reported",
        "tier": data.tier, "complaints": await _matched(conn, event.stream_id), "reported_at": event.occurred_at,
        "updated_at": event.occurred_at,
        "version": event.version, "last_position": event.position,
    }
    await upsert(conn, orders, [row], ["order_id"])
    if data.channel == "platform" and data.platform_id:
        ref = {"platform_id": data.platform_id, "platform_ref": data.external_ref, "order_id": event.stream_id,
               "kind": "repair", "position": event.position}
        await upsert(conn, platform_refs, [ref], ["platform_id", "platform_ref", "order_id"], update=[])


async def on_escalated(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderEscalated) -> None:
    await _touch(conn, event, tier=data.to_tier)


async def on_complaint(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintReceived) -> None:
    await _touch(conn, event, complaints=orders.c.complaints + 1)
    if data.platform_id and data.external_ref:
        ref = {"platform_id": data.platform_id, "platform_ref": data.external_ref, "order_id": event.stream_id,
               "kind": "complaint", "position": event.position}
        await upsert(conn, platform_refs, [ref], ["platform_id", "platform_ref", "order_id"], update=[])


async def _matched(conn: AsyncConnection, order_id: str) -> int:
    """Complaints matched to the order before its report was applied (another stream, so another
    partition in the distributed mode: the count does not depend on which came first)."""
    query = select(func.count()).select_from(matched).where(matched.c.order_id == order_id)
    return int((await conn.execute(query)).scalar_one())


async def on_matched(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintMatched) -> None:
    """A complaint filed without an order now counts as the order's (its events stay on its own stream)."""
    await upsert(conn, matched, [{"complaint_id": str(data.complaint_id), "order_id": data.order_id}],
                 ["complaint_id"], update=[])
    await conn.execute(update(orders).where(orders.c.order_id == data.order_id)
                       .values(complaints=orders.c.complaints + 1))


def _status(status: str) -> Handler:
    async def handle(conn: AsyncConnection, event: StoredEvent, data: Any) -> None:
        await _touch(conn, event, status=status)

    return handle


async def _other(conn: AsyncConnection, event: StoredEvent, data: Any) -> None:
    await _touch(conn, event)


HANDLERS: dict[str, Handler] = {
    "order.reported": on_reported,
    "order.escalated": on_escalated,
    "complaint.received": on_complaint,
    "complaint.matched": on_matched,
    **{type_: _status(status) for type_, status in STATUS.items()},
    **{t: _other for t in ("order.sla_paused", "order.sla_resumed", "order.rescheduled", "order.on_the_way",
                           "order.reviewed", "complaint.responded")},
}

PROJECTION = Projection("intake_orders", metadata, HANDLERS)
