"""The notification outbox: enqueue (deduplicated), claim what is due, record outcomes.

At least once: a row stays `pending` until a channel answered `delivered` or `permanent`, or
it ran out of attempts; a claimed row is leased (its next attempt pushed LEASE ahead) so two
passes or two processes never send it at the same time, and a process that dies mid-send
leaves it to be sent again once the lease runs out. States:

    pending ──delivered──> delivered
       │ ├──permanent / MAX_ATTEMPTS──> failed
       │ ├──customer opted out──> suppressed
       │ └──cancelled (review came first)──> cancelled
       └──retry──> pending (next_attempt_at = now + back-off with jitter)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.clock import Clock
from libs.events.db import reader
from libs.events.sqlutil import upsert
from services.notify.channels import DeliveryResult
from services.notify.domain.model import Cancel, OrderContext, Step, Trigger
from services.notify.domain.policy import DedupKey, dedup_key, fresh, give_up, retry_delay
from services.notify.domain.templates import render, scrub
from services.notify.tables import notifications, opt_outs

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Due:
    """A claimed row, as the dispatcher needs it."""

    id: UUID
    order_id: str
    step: Step
    channel: str
    recipient_ref: str
    maker: str
    subject: str
    text: str
    attempts: int
    useful_until: datetime | None


def rows_for(order_id: str, recipient_ref: str, context: OrderContext, triggers: Iterable[Trigger],
             channels: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """The outbox rows for some triggers, one per channel, rendered now (pure)."""
    rows = []
    for trigger in triggers:
        variables = trigger.variables
        if context.status_link:
            variables = {**variables, "link": context.status_link}
        rendered = render(trigger.step, context.maker, variables)
        for channel in channels:
            rows.append({
                "id": uuid4(), "order_id": order_id, "step": trigger.step.value, "channel": channel,
                "recipient_ref": recipient_ref, "maker": context.maker,
                "template": rendered.template_id,
                "payload": {"subject": rendered.subject, "text": rendered.text}, "state": "pending",
                "attempts": 0, "next_attempt_at": trigger.not_before or now,
                "useful_until": trigger.useful_until, "created_at": now, "updated_at": now,
            })
    return rows


class Outbox:
    """The writes on the outbox tables. `wake` is set on every enqueue that added a row, so
    a dispatcher in this process sends at once instead of polling."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock
        self.wake = asyncio.Event()

    async def enqueue(self, order_id: str, recipient_ref: str, context: OrderContext,
                      actions: Iterable[Trigger | Cancel], channels: Sequence[str]) -> int:
        """Queue the triggers and apply the cancels in a transaction of their own, then wake
        the dispatcher; returns how many rows were new."""
        async with self.engine.begin() as conn:
            new = await self.enqueue_on(conn, order_id, recipient_ref, context, actions, channels)
        if new:
            self.wake.set()
        return new

    async def enqueue_on(self, conn: AsyncConnection, order_id: str, recipient_ref: str,
                         context: OrderContext, actions: Iterable[Trigger | Cancel],
                         channels: Sequence[str]) -> int:
        """The same inside the caller's transaction (a projection handler's, so the rows
        commit with its checkpoint). It does not wake the dispatcher: the caller sets `wake`
        after its commit, or the dispatcher would look before the rows are visible.

        Safe to repeat with the same event (redelivery): a (order, step, channel) already
        queued is left as it is, whatever its state.
        """
        actions = list(actions)
        now = self.clock()
        rows = rows_for(order_id, recipient_ref, context,
                        [a for a in actions if isinstance(a, Trigger)], channels, now)
        cancels = [a.step.value for a in actions if isinstance(a, Cancel)]
        existing = {dedup_key(r.order_id, Step(r.step), r.channel) for r in (await conn.execute(
            select(notifications.c.order_id, notifications.c.step, notifications.c.channel)
            .where(notifications.c.order_id == order_id))).all()}
        by_key: dict[DedupKey, dict[str, Any]] = {}
        for row in rows:
            by_key.setdefault(dedup_key(row["order_id"], Step(row["step"]), row["channel"]), row)
        new = [by_key[key] for key in fresh(by_key, existing)]
        await upsert(conn, notifications, new, ["order_id", "step", "channel"], update=[])
        if cancels:
            await conn.execute(update(notifications).where(
                notifications.c.order_id == order_id, notifications.c.step.in_(cancels),
                notifications.c.state == "pending").values(state="cancelled", updated_at=now))
        return len(new)

    async def claim(self, now: datetime, batch: int = 50) -> list[Due]:
        """Lease the due rows (oldest due first); rows another pass leased first are skipped."""
        async with reader(self.engine).connect() as conn:
            due = (await conn.execute(
                select(notifications).where(notifications.c.state == "pending",
                                            notifications.c.next_attempt_at <= now)
                .order_by(notifications.c.next_attempt_at, notifications.c.created_at).limit(batch)
            )).mappings().all()
        if not due:  # the usual pass: no write transaction
            return []
        claimed = []
        async with self.engine.begin() as conn:
            for row in due:
                leased = await conn.execute(update(notifications).where(
                    notifications.c.id == row["id"], notifications.c.state == "pending",
                    notifications.c.next_attempt_at == row["next_attempt_at"],
                ).values(next_attempt_at=now + LEASE))
                if leased.rowcount:
                    claimed.append(_due(row))
        return claimed

    async def record(self, row: Due, result: DeliveryResult, now: datetime,
                     random: Callable[[], float]) -> str:
        """Store a channel's answer; returns the row's new state."""
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "updated_at": now}
        if result.status == "delivered":
            values |= {"state": "delivered", "delivered_at": now, "last_error": None,
                       "provider_ref": result.provider_ref}
        elif result.status == "permanent" or give_up(attempts):
            values |= {"state": "failed", "last_error": scrub(result.detail)[:500]}
        else:
            values |= {"state": "pending", "last_error": scrub(result.detail)[:500],
                       "next_attempt_at": now + retry_delay(attempts, random, result.retry_after)}
        await self._set(row.id, values)
        return str(values["state"])

    async def defer(self, row: Due, until: datetime) -> None:
        """Quiet hours: send later without counting an attempt."""
        await self._set(row.id, {"next_attempt_at": until, "updated_at": self.clock()})

    async def close(self, row: Due, state: str, reason: str) -> None:
        """End a row unsent (suppressed by an opt-out, failed for want of an address)."""
        await self._set(row.id, {"state": state, "last_error": reason, "updated_at": self.clock()})

    async def next_due(self) -> datetime | None:
        """When the earliest pending row falls due (the dispatcher sleeps until then)."""
        async with reader(self.engine).connect() as conn:
            found: datetime | None = (await conn.execute(
                select(func.min(notifications.c.next_attempt_at))
                .where(notifications.c.state == "pending"))).scalar()
        return found

    async def requeue(self, ids: Iterable[UUID]) -> int:
        """Ops: send failed rows again from scratch (credentials fixed, provider back);
        returns how many were failed and are pending now."""
        now = self.clock()
        async with self.engine.begin() as conn:
            changed = await conn.execute(update(notifications).where(
                notifications.c.id.in_(list(ids)), notifications.c.state == "failed",
            ).values(state="pending", attempts=0, next_attempt_at=now, updated_at=now))
        if changed.rowcount:
            self.wake.set()
        return int(changed.rowcount)

    async def opt_out(self, recipient_ref: str, channel: str) -> None:
        row = {"recipient_ref": recipient_ref, "channel": channel, "created_at": self.clock()}
        async with self.engine.begin() as conn:
            await upsert(conn, opt_outs, [row], ["recipient_ref", "channel"], update=[])

    async def opt_in(self, recipient_ref: str, channel: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(opt_outs).where(opt_outs.c.recipient_ref == recipient_ref,
                                                      opt_outs.c.channel == channel))

    async def opt_outs_of(self, refs: Iterable[str]) -> dict[str, set[str]]:
        """Each recipient's opted-out channels (missing = none)."""
        refs = set(refs)
        if not refs:
            return {}
        out: dict[str, set[str]] = {}
        async with reader(self.engine).connect() as conn:
            for ref, channel in (await conn.execute(
                    select(opt_outs.c.recipient_ref, opt_outs.c.channel)
                    .where(opt_outs.c.recipient_ref.in_(refs)))).all():
                out.setdefault(ref, set()).add(channel)
        return out

    async def _set(self, row_id: UUID, values: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(notifications).where(notifications.c.id == row_id)
                               .values(**values))


def _due(row: RowMapping) -> Due:
    payload = row["payload"]
    return Due(row["id"], row["order_id"], Step(row["step"]), row["channel"],
               row["recipient_ref"], row["maker"], payload["subject"], payload["text"],
               row["attempts"], row["useful_until"])

