"""The access log: every read of full personal data, listable by the privacy role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ensure_utc
from libs.events.db import reader
from libs.events.personal.tables import personal_access


@dataclass(frozen=True)
class AccessRecord:
    id: int
    principal: str
    subject_id: str
    order_id: str | None
    purpose: str
    at: datetime


async def record_access(engine: AsyncEngine, principal: str, subject: str, order_id: str | None,
                        purpose: str, at: datetime) -> None:
    """Record one read of full values; `purpose` is the endpoint (or job) that read them."""
    if not principal or not subject or not purpose:
        raise ValueError("an access record names its principal, subject and purpose")
    async with engine.begin() as conn:
        await conn.execute(personal_access.insert().values(
            principal=principal, subject_id=subject, order_id=order_id, purpose=purpose,
            at=ensure_utc(at),
        ))


async def list_access(engine: AsyncEngine, *, subject: str | None = None,
                      principal: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, limit: int = 100,
                      after_id: int = 0) -> list[AccessRecord]:
    """Oldest first, `limit` at a time after `after_id` (keyset paging for the privacy role)."""
    query = (select(personal_access).where(personal_access.c.id > after_id)
             .order_by(personal_access.c.id).limit(limit))
    if subject is not None:
        query = query.where(personal_access.c.subject_id == subject)
    if principal is not None:
        query = query.where(personal_access.c.principal == principal)
    if since is not None:
        query = query.where(personal_access.c.at >= ensure_utc(since))
    if until is not None:
        query = query.where(personal_access.c.at < ensure_utc(until))
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [AccessRecord(**row) for row in rows]
