"""Signed status callbacks to partners: every event of a partner's order, POSTed to its webhook.

A background job (never the request path) does two things per pass:
1. collect: read the store after its own cursor, up to where the intake_orders read model
   has caught up (so every event's partner is known), and queue a delivery per event of
   a partner that has a webhook URL;
2. deliver: POST what is due, signed with the partner's secret
   (`X-Signature: sha256=<hex HMAC-SHA256(secret, f"{X-Timestamp}." + body)>`);
   a failure is retried with exponential back-off and given up after MAX_ATTEMPTS.
A slow or dead receiver only delays its own deliveries; orders never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock
from libs.events.db import reader
from libs.events.envelope import canonical_json
from libs.events.sqlutil import upsert
from libs.web.auth import principals
from libs.web.runtime import Runtime
from services.intake.projection import PROJECTION
from services.intake.projection import orders as orders_table
from services.intake.reference import deliveries, partner_secrets, webhook_cursor

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
CLIENT = "intake.webhook_client"
MANUAL = "intake.webhooks_manual"  # set in runtime.state to drive passes by hand (tests)
LEASE = timedelta(minutes=5)  # a claimed delivery is not picked up by another pass meanwhile


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … capped at an hour."""
    delay: timedelta = BASE_DELAY * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_DELAY)


async def ensure_secret(engine: AsyncEngine, clock: Clock, partner_id: str) -> str:
    """The partner's webhook signing secret, created on first use."""
    row = {"partner_id": partner_id, "webhook_secret": f"whsec_{secrets.token_urlsafe(24)}", "created_at": clock()}
    async with engine.begin() as conn:
        await upsert(conn, partner_secrets, [row], ["partner_id"], update=[])
        found = (await conn.execute(select(partner_secrets.c.webhook_secret)
                                    .where(partner_secrets.c.partner_id == partner_id))).scalar_one()
    return str(found)


async def collect(runtime: Runtime, batch: int = 500) -> int:
    """Queue deliveries for new events of orders whose partner has a webhook; returns how many."""
    async with reader(runtime.engine).connect() as conn:
        cursor = (await conn.execute(select(webhook_cursor.c.position)
                                     .where(webhook_cursor.c.name == "webhooks"))).scalar() or 0
    upto = await runtime.projectors[PROJECTION.name].position()
    if upto <= cursor:  # nothing the read model has caught up with yet (no read of the store)
        return 0
    # positions may have gaps, never more events than positions: no more than upto - cursor to read
    events = [e for e in await runtime.store.read_all(cursor, min(batch, upto - cursor)) if e.position <= upto]
    if not events:
        return 0
    streams = {e.stream_id for e in events}
    async with reader(runtime.engine).connect() as conn:
        partner_of = dict((await conn.execute(
            select(orders_table.c.order_id, orders_table.c.partner_id).where(orders_table.c.order_id.in_(streams))
        )).all())
        urls = dict((await conn.execute(
            select(principals.c.id, principals.c.webhook_url)
            .where(principals.c.id.in_({p for p in partner_of.values() if p}), principals.c.role == "partner",
                   principals.c.webhook_url.is_not(None))
        )).all())
    now, rows = runtime.clock(), []
    for event in events:
        partner = partner_of.get(event.stream_id)
        if partner and urls.get(partner):
            rows.append({"event_id": event.id, "partner_id": partner, "order_id": event.stream_id,
                         "position": event.position, "url": urls[partner], "state": "pending", "attempts": 0,
                         "payload": canonical_json(event.to_cloudevent()), "next_attempt_at": now})
    async with runtime.engine.begin() as conn:
        await upsert(conn, deliveries, rows, ["event_id"], update=[])
        await upsert(conn, webhook_cursor, [{"name": "webhooks", "position": events[-1].position}], ["name"])
    return len(rows)


async def deliver(runtime: Runtime, client: httpx.AsyncClient, batch: int = 50) -> int:
    """POST the due deliveries; returns how many were acknowledged with a 2xx."""
    now = runtime.clock()
    async with reader(runtime.engine).connect() as conn:
        due = (await conn.execute(
            select(deliveries).where(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.position).limit(batch)
        )).mappings().all()
    if not due:  # the usual pass: no transactions to open
        return 0
    due = await _claim(runtime, due, now)
    secrets_of = {p: await ensure_secret(runtime.engine, runtime.clock, p) for p in {r["partner_id"] for r in due}}
    outcomes = await asyncio.gather(*(_post(client, dict(r), secrets_of[r["partner_id"]], now) for r in due))
    async with runtime.engine.begin() as conn:
        for row, error in zip(due, outcomes, strict=True):
            attempts = row["attempts"] + 1
            if error is None:
                values: dict[str, Any] = {"state": "delivered", "attempts": attempts, "delivered_at": now,
                                          "last_error": None}
            else:
                values = {"attempts": attempts, "last_error": error[:500], "next_attempt_at": now + backoff(attempts),
                          "state": "failed" if attempts >= MAX_ATTEMPTS else "pending"}
            await conn.execute(update(deliveries).where(deliveries.c.event_id == row["event_id"]).values(**values))
    return sum(1 for o in outcomes if o is None)


async def _claim(runtime: Runtime, due: Sequence[RowMapping], now: datetime) -> list[RowMapping]:
    """Lease each row before sending, so two passes (or two processes) never send it twice at once."""
    claimed = []
    async with runtime.engine.begin() as conn:
        for row in due:
            result = await conn.execute(
                update(deliveries)
                .where(deliveries.c.event_id == row["event_id"], deliveries.c.state == "pending",
                       deliveries.c.next_attempt_at == row["next_attempt_at"])
                .values(next_attempt_at=now + LEASE)
            )
            if result.rowcount:
                claimed.append(row)
    return claimed


async def _post(client: httpx.AsyncClient, row: dict[str, Any], secret: str, now: datetime) -> str | None:
    body = row["payload"].encode()
    timestamp = str(int(now.timestamp()))
    headers = {"Content-Type": "application/json", "X-Timestamp": timestamp, "X-Signature": sign(secret, timestamp, body),
               "X-Event-Id": str(row["event_id"])}
    try:
        answer = await client.post(row["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def client_for(runtime: Runtime) -> httpx.AsyncClient:
    """The shared webhook client (tests put one with a MockTransport in runtime.state first)."""
    client = runtime.state.get(CLIENT)
    if not isinstance(client, httpx.AsyncClient):
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        runtime.state[CLIENT] = client
    return client


async def run_once(runtime: Runtime) -> int:
    await collect(runtime)
    return await deliver(runtime, client_for(runtime))


async def job(runtime: Runtime, stop: asyncio.Event) -> None:
    """ServiceSpec job: a delivery pass every `intake_webhook_interval` seconds until stopped."""
    from services.intake.api.platform import forget_old_nonces

    while not stop.is_set():
        try:
            if not runtime.state.get(MANUAL):
                await run_once(runtime)
                await forget_old_nonces(runtime)
        except Exception:
            log.exception("webhook pass failed; retrying next pass")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), runtime.settings.intake_webhook_interval)
