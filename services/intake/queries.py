"""Intake's read-side SQL over its read model (no writes, no HTTP)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.projection import orders, platform_refs


async def orders_for_platform_ref(conn: AsyncConnection, platform_id: str, ref: str) -> list[tuple[str, str]]:
    """(order id, kind) of everything a platform forwarded under one reference."""
    query = (select(platform_refs.c.order_id, platform_refs.c.kind)
             .where(platform_refs.c.platform_id == platform_id, platform_refs.c.platform_ref == ref)
             .order_by(platform_refs.c.position))
    return [(r[0], r[1]) for r in await conn.execute(query)]


async def latest_order_for(conn: AsyncConnection, phone: str, serial: str) -> str | None:
    """The newest order of this customer phone for this unit's serial number."""
    query = (select(orders.c.order_id).where(orders.c.customer_phone == phone, orders.c.serial == serial)
             .order_by(orders.c.reported_at.desc()).limit(1))
    row = (await conn.execute(query)).first()
    return str(row[0]) if row else None
