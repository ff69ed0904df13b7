"""The Directory the dispatcher asks at send time: an order's customer phone, read from the
notify read model (so the outbox rows never hold it, and an order no longer there gets
nothing). SMS and the log channel are sent to the phone; orders carry no e-mail address."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import reader
from services.notify.projection import orders

PHONE_CHANNELS = frozenset({"sms", "log"})


class OrderDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def address(self, order_id: str, channel: str) -> str | None:
        if channel not in PHONE_CHANNELS:
            return None
        async with reader(self.engine).connect() as conn:
            phone: str | None = (await conn.execute(
                select(orders.c.customer_phone).where(orders.c.order_id == order_id))).scalar()
        return phone or None
