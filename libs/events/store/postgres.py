"""PostgreSQL adapter: a transaction-scoped advisory lock orders appends by commit, and every
committed append NOTIFYs `APPENDED`, which `Notifications` turns into wake-ups in other processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.store.sql import APPEND_LOCK, APPENDED, SqlEventStore

log = logging.getLogger(__name__)


class PostgresEventStore(SqlEventStore):
    async def _lock(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k), pg_notify(:c, '')"),
                           {"k": APPEND_LOCK, "c": APPENDED})


class Wakeable(Protocol):
    def set(self) -> None: ...


class Notifications:
    """LISTEN on PostgreSQL channels over one dedicated connection; set every subscriber's
    asyncio.Event when a notification arrives.

    A wake-up is a hint to look, never data: a subscriber re-reads what it cares about. When
    the connection is lost every subscriber is woken too (it may have missed a notification)
    and the listener reconnects with backoff; subscribers keep a slow safety poll anyway.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._subscribers: dict[str, list[Wakeable]] = {}

    def subscribe(self, channel: str = APPENDED, wakeup: Wakeable | None = None) -> Any:
        """A new asyncio.Event set on every notification of `channel` (or `wakeup`, any object
        with a `set()`, subscribed instead). Subscribe before `run` starts."""
        target = wakeup if wakeup is not None else asyncio.Event()
        self._subscribers.setdefault(channel, []).append(target)
        return target

    def _wake(self, channel: str) -> None:
        for wakeup in self._subscribers.get(channel, []):
            wakeup.set()

    def _wake_all(self) -> None:
        for channel in self._subscribers:
            self._wake(channel)

    async def run(self, stop: asyncio.Event, max_backoff: float = 5.0) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._listen(stop)
                backoff = 0.2
            except Exception as exc:
                log.warning("notifications: %s; listening again in %.1fs", exc, backoff)
                backoff = min(max_backoff, backoff * 2)
            self._wake_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)

    async def _listen(self, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        raw = await asyncpg.connect(dsn)  # its own connection: a pooled one would keep LISTENing
        try:
            for channel in self._subscribers:
                await raw.add_listener(channel, self._on_notify)
            raw.add_termination_listener(lambda _conn: lost.set())
            self._wake_all()  # anything committed before LISTEN took effect
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if lost.is_set():
                raise ConnectionError("the listening connection was closed")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(raw.close(), 5)

    def _on_notify(self, _conn: Any, _pid: int, channel: str, _payload: str) -> None:
        self._wake(channel)
