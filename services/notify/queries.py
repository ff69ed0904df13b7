"""What ops read: notifications by state, per order, and a count per state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import reader
from services.notify.tables import notifications

_LISTED = [notifications.c[name] for name in (
    "id", "order_id", "step", "channel", "state", "attempts", "next_attempt_at", "last_error",
    "template", "provider_ref", "created_at", "updated_at", "delivered_at")]


async def list_notifications(engine: AsyncEngine, *, state: str | None = None,
                             order_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; the payload text is left out (ops need states, not messages)."""
    query = select(*_LISTED).order_by(notifications.c.created_at.desc(), notifications.c.id)
    if state is not None:
        query = query.where(notifications.c.state == state)
    if order_id is not None:
        query = query.where(notifications.c.order_id == order_id)
    async with reader(engine).connect() as conn:
        return [dict(row) for row in (await conn.execute(query.limit(limit))).mappings().all()]


async def counts_by_state(engine: AsyncEngine) -> dict[str, int]:
    query = select(notifications.c.state, func.count()).group_by(notifications.c.state)
    async with reader(engine).connect() as conn:
        return {state: int(n) for state, n in (await conn.execute(query)).all()}
