"""Intake's own durable reference tables (not read models: a rebuild must never drop them).

Platform nonces, partner webhook secrets and the webhook outbox. Made by the migrations
(libs/events/migrations, listed in app/durable.py). Idempotency-Key answers need no table of their own:
the event a key appended is the answer (see api/idempotency.py); databases created
before that still hold an `intake_idempotency` table, no longer read or written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, Uuid, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.schema import Position, UTCDateTime

metadata = MetaData()

nonces = Table(
    "intake_platform_nonces",
    metadata,
    Column("platform_id", String(100), primary_key=True),
    Column("nonce", String(200), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
)

partner_secrets = Table(
    "intake_partner_secrets",
    metadata,
    Column("partner_id", String(100), primary_key=True),
    Column("webhook_secret", String(100), nullable=False),  # HMAC key; must be readable to sign
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_cursor = Table(
    "intake_webhook_cursor",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("position", Position, nullable=False),
)

deliveries = Table(
    "intake_webhook_deliveries",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("partner_id", String(100), nullable=False),
    Column("order_id", String(200), nullable=False),
    Column("position", Position, nullable=False),
    Column("url", String(500), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(20), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("last_error", String(500)),
)
Index("ix_intake_webhook_due", deliveries.c.state, deliveries.c.next_attempt_at)


async def remember_nonce(engine: AsyncEngine, platform_id: str, nonce: str, now: datetime) -> bool:
    """Record a platform's nonce; False when it was seen before (a replayed request)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(nonces).values(platform_id=platform_id, nonce=nonce, seen_at=now)
    async with engine.begin() as conn:
        return bool((await conn.execute(stmt.on_conflict_do_nothing())).rowcount)


async def forget_nonces(engine: AsyncEngine, before: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(nonces).where(nonces.c.seen_at < before))
