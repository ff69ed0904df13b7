"""The dispatcher: sends what the outbox holds, when it falls due.

`run_once(now)` is one pass (tests drive it with a manual clock). `run(stop)` is the
long-running task: a pass, then sleep until whichever comes first — an enqueue in this
process (`Outbox.wake`), the next due retry or deferred message, `max_sleep` (rows queued by
another process), or stop. No busy polling: an idle outbox costs one query per `max_sleep`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from services.notify.channels import Channel, DeliveryResult, Message
from services.notify.domain.policy import MakerPolicy, opted_out, policy_for, release_time
from services.notify.outbox import Due, Outbox

log = logging.getLogger(__name__)


class Directory(Protocol):
    """Where a customer is reached: the address for an order's customer on a channel, read at
    send time (so the outbox never stores a phone number and an erased customer is not sent
    to), or None when there is none for that channel."""

    async def address(self, order_id: str, channel: str) -> str | None: ...


class StaticDirectory:
    """A fixed {(order_id, channel): address} map (tests, demos)."""

    def __init__(self, addresses: Mapping[tuple[str, str], str]) -> None:
        self._addresses = dict(addresses)

    async def address(self, order_id: str, channel: str) -> str | None:
        return self._addresses.get((order_id, channel))


class Dispatcher:
    def __init__(self, outbox: Outbox, channels: Mapping[str, Channel], directory: Directory,
                 policies: Mapping[str, MakerPolicy] | None = None, *,
                 random: Callable[[], float] = _random.random, batch: int = 50,
                 max_sleep: float = 300.0, error_pause: float = 5.0,
                 concurrency: int = 10) -> None:
        self.outbox, self.channels, self.directory = outbox, dict(channels), directory
        self.policies = dict(policies or {})
        self.random, self.batch, self.max_sleep = random, batch, max_sleep
        self.error_pause = error_pause  # after a failed pass (database down): try again soon
        self._sending = asyncio.Semaphore(concurrency)  # at most this many sends at once

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass over what is due at `now`; returns how many rows ended in each state
        (`deferred` for quiet hours, `pending` for a retry scheduled)."""
        rows = await self.outbox.claim(now, self.batch)
        if not rows:
            return {}
        refused = await self.outbox.opt_outs_of(r.recipient_ref for r in rows)
        outcomes = await asyncio.gather(*(self._one(r, now, refused.get(r.recipient_ref, set()))
                                          for r in rows))
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    async def _one(self, row: Due, now: datetime, refused: set[str]) -> str:
        if opted_out(row.channel, refused):
            await self.outbox.close(row, "suppressed", f"customer opted out of {row.channel}")
            return "suppressed"
        policy = policy_for(row.maker, self.policies)
        release = release_time(now, row.step, policy, row.useful_until)
        if release > now:
            await self.outbox.defer(row, release)
            return "deferred"
        channel = self.channels.get(row.channel)
        address = await self.directory.address(row.order_id, row.channel) if channel else None
        if channel is None or address is None:
            why = "channel not configured" if channel is None else "no address for this channel"
            await self.outbox.close(row, "failed", why)
            return "failed"
        message = Message(row.id, row.channel, address, row.subject, row.text)
        try:
            async with self._sending:
                result = await channel.send(message)
        except Exception as exc:  # an adapter bug must not lose the message: try again later
            log.exception("channel %s raised on notification %s", row.channel, row.id)
            result = DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return await self.outbox.record(row, result, now, self.random)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: a pass, then sleep until woken or the next row falls due."""
        while not stop.is_set():
            self.outbox.wake.clear()  # an enqueue during the pass below sets it again
            try:
                await self.run_once(self.outbox.clock())
                due = await self.outbox.next_due()
            except Exception:
                log.exception("notification pass failed; trying again in %.0f s", self.error_pause)
                pause = self.error_pause
            else:
                pause = self.max_sleep
                if due is not None:
                    pause = min(pause, max((due - self.outbox.clock()).total_seconds(), 0.0))
            await _first(stop, self.outbox.wake, seconds=pause)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()


async def _first(stop: asyncio.Event, wake: asyncio.Event, *, seconds: float) -> None:
    """Return when either event is set or `seconds` have passed."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
