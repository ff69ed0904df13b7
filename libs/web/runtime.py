"""The runtime of one process: engine, store, projectors and their feeds, relay, background jobs.

Embedded (no KAFKA_BOOTSTRAP): projections tail the store and wake on every append.
Distributed: the relay publishes the outbox to Kafka and each projection is a consumer
group; `role` decides which parts a process runs (api, relay, projector or all).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.db import create_engine, migrate, reader
from libs.events.envelope import NewEvent
from libs.events.projection import CHECKPOINTED, Projection, Projector, Watermarks
from libs.events.receipt_keys import SigningKeyError, signing_key
from libs.events.relay import PUBLISHED, KafkaPublisher, Relay
from libs.events.schema import dead_letters
from libs.events.settings import Settings
from libs.events.store import AppendResult, SqlEventStore, store_for
from libs.events.store.postgres import Notifications
from libs.events.store.sql import APPENDED
from libs.events.subscription import KafkaFeed, StoreTail
from libs.web import auth, metrics
from libs.web.context import log_tasks_on

log = logging.getLogger(__name__)

Job = Callable[["Runtime", asyncio.Event], Awaitable[None]]


def periodic(name: str, pass_once: Callable[[Runtime], Awaitable[object]],
             interval: Callable[[Settings], float]) -> Job:
    """A job that runs `pass_once` every `interval(settings)` seconds until stopped; a failed pass
    (the database down) is logged and tried again at the next interval."""
    async def job(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await pass_once(runtime)
            except Exception as exc:
                log.warning("%s pass failed: %s", name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval(runtime.settings))

    job.__name__ = job.__qualname__ = name.replace(" ", "_")
    return job


@dataclass
class ServiceSpec:
    """What a service contributes to a process: routes, read models, background jobs."""

    name: str
    router: APIRouter
    projections: list[Projection] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    setup: Callable[[Runtime], Awaitable[None]] | None = None


@dataclass
class Lag:
    events: int
    seconds: float
    position: int
    head: int


_STARTUP_LOCK = 7_351_002


@contextlib.asynccontextmanager
async def _startup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """One process at a time creates tables: pods starting together (compose, a rollout) would
    otherwise race on CREATE TABLE for the same read model and crash at start-up."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _STARTUP_LOCK})
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _STARTUP_LOCK})
            await conn.commit()


class Runtime:
    def __init__(
        self, settings: Settings, services: list[ServiceSpec], clock: Clock = system_clock,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.settings, self.services, self.clock = settings, services, clock
        self.engine = engine or create_engine(settings.database_url)
        self.store: SqlEventStore = store_for(self.engine, clock)
        self.store.listeners.append(self._on_append)
        self.projectors = {
            p.name: Projector(self.engine, p, self.store, clock) for s in services for p in s.projections
        }
        self.tails: dict[str, StoreTail] = {}
        self.feeds: dict[str, KafkaFeed] = {}
        self.relay: Relay | None = None
        # Other processes' appends and publications arrive by LISTEN/NOTIFY (PostgreSQL only)
        self.notifications = Notifications(self.engine) if self.engine.dialect.name == "postgresql" else None
        self._appended: list[asyncio.Event] = []  # woken by this process's own appends too
        self.watermarks = Watermarks(self.engine)  # read-your-writes (libs/web/consistency.py)
        for projector in self.projectors.values():
            projector.on_checkpoint.append(self.watermarks.set)
        if self.notifications is not None:
            self.notifications.subscribe(CHECKPOINTED, self.watermarks)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.state: dict[str, Any] = {}  # per-service singletons (e.g. a webhook client)
        self.receipt_key: Ed25519PrivateKey | None = None  # loaded once by start() (API role)

    def _on_append(self, result: AppendResult, events: Sequence[NewEvent]) -> None:
        for event in events:
            metrics.appends.labels(event.type).inc()
        for tail in self.tails.values():
            tail.wakeup.set()
        for wakeup in self._appended:
            wakeup.set()

    async def start(self) -> None:
        # however the app was served (python -m app, uvicorn --factory, tests)
        self.settings.check_secrets([service.name for service in self.services])
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
            log_tasks_on(signal.SIGUSR1)
        async with _startup_lock(self.engine):
            await migrate(self.engine)  # every durable table, principals included (libs/events/migrations)
            if self.settings.demo:
                await auth.create_demo_principals(self.engine, self.clock)
            for projector in self.projectors.values():
                await projector.setup()
            for service in self.services:
                if service.setup:
                    await service.setup(self)
        role = self.settings.role
        if role in ("api", "all"):
            try:
                self.receipt_key = signing_key(self.settings)
            except SigningKeyError as exc:  # receipts are opt-in outside the demo
                log.warning("no chain receipts in this process: %s", exc)
        distributed = self.settings.kafka_bootstrap is not None
        if self.settings.run_projections and role in ("api", "projector", "all"):
            for name, projector in self.projectors.items():
                if distributed:
                    feed = KafkaFeed(self.settings.kafka_bootstrap or "", self.settings.topic, projector,
                                     grace=self.settings.reconcile_grace,
                                     reconcile_every=self.settings.reconcile_interval or None,
                                     instance_id=self.settings.kafka_instance_id,
                                     wakeup=self._subscribe(PUBLISHED))
                    self.feeds[name] = feed
                    metrics.pipeline.feeds.append(feed)
                    self._spawn(feed.run(self._stop))
                else:
                    tail = StoreTail(self.store, projector)
                    self.tails[name] = tail
                    self._spawn(tail.run(self._stop))
        if distributed and self.settings.run_relay and role in ("relay", "all"):
            publisher = KafkaPublisher(self.settings.kafka_bootstrap or "", self.settings.topic,
                                       self.settings.topic_partitions)
            self.relay = Relay(self.store, self.engine, publisher, name=f"relay:{self.settings.topic}", clock=self.clock,
                               broker_timeout=self.settings.relay_broker_timeout, wakeup=self._subscribe(APPENDED))
            self._appended.append(self.relay.wakeup)  # type: ignore[arg-type]
            self._spawn(self.relay.run(self._stop))
            metrics.pipeline.relays.append(self.relay)
        if role in ("api", "all"):
            self._spawn(self._watch_keys())
            for service in self.services:
                for job in service.jobs:
                    self._spawn(job(self, self._stop))
        if self.notifications is not None:
            self._spawn(self.notifications.run(self._stop))
        self._spawn(self._monitor())

    def _subscribe(self, channel: str) -> asyncio.Event | None:
        """A wake-up for a channel's notifications; None (poll) where there are none (SQLite)."""
        return self.notifications.subscribe(channel) if self.notifications is not None else None

    def _spawn(self, coro: Awaitable[Any]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    async def stop(self) -> None:
        self._stop.set()
        metrics.pipeline.feeds = [f for f in metrics.pipeline.feeds if f not in self.feeds.values()]
        metrics.pipeline.relays = [r for r in metrics.pipeline.relays if r is not self.relay]
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for value in list(self.state.values()):
            closer = getattr(value, "aclose", None)  # clients kept in state (webhooks, gateway)
            if callable(closer):
                try:
                    await closer()
                except Exception as exc:
                    log.debug("closing %r: %s", value, exc)
        self.state.clear()
        await self.store.close()
        await self.engine.dispose()

    async def sync(self) -> None:
        """Bring every local projection up to the store's head now (read-your-writes, tests)."""
        for name, projector in self.projectors.items():
            if name in self.tails:
                await self.tails[name].catch_up()
            else:
                await projector.reconcile(grace=0)

    async def lag(self, name: str) -> Lag:
        projector = self.projectors[name]
        head = await self.store.head_position()
        position = await projector.position()
        if position >= head:
            return Lag(0, 0.0, position, head)
        nxt = await self.store.read_all(position, 1)
        age = (self.clock() - nxt[0].recorded_at).total_seconds() if nxt else 0.0
        return Lag(head - position, max(age, 0.0), position, head)

    async def completeness(self, *projections: str) -> dict[str, Any]:
        """What a figure read from `projections` says about itself: `complete` false, and the
        projections named, while any of them holds unresolved dead letters (events it missed)."""
        dead = await self.dead_letter_counts()
        missing = sorted(p for p in projections if dead.get(p))
        return {"complete": not missing, "incomplete": missing}

    async def dead_letter_counts(self) -> dict[str, int]:
        async with reader(self.engine).connect() as conn:
            rows = await conn.execute(
                select(dead_letters.c.projection, func.count())
                .where(dead_letters.c.resolved_at.is_(None))
                .group_by(dead_letters.c.projection)
            )
            return {r[0]: int(r[1]) for r in rows}

    async def _watch_keys(self) -> None:
        """Drop this process's key cache when any process changed a key, so a revocation made
        elsewhere holds within about `key_watch_interval`, not the cache's KEY_TTL."""
        seen: int | None = None
        while not self._stop.is_set():
            try:
                mark = await auth.last_key_change(self.engine)
                if seen is not None and mark != seen:
                    self.state.pop(auth.KEY_CACHE, None)
                seen = mark
            except Exception as exc:
                log.debug("key watch: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.key_watch_interval)

    async def _monitor(self, every: timedelta = timedelta(seconds=5)) -> None:
        while not self._stop.is_set():
            try:
                for name in self.projectors:
                    lag = await self.lag(name)
                    metrics.projection_lag_events.labels(name).set(lag.events)
                    metrics.projection_lag_seconds.labels(name).set(lag.seconds)
                for name, count in (await self.dead_letter_counts()).items():
                    metrics.dead_letters.labels(name).set(count)
                if self.relay is not None:
                    self.relay.lag = await self.store.head_position() - await self.relay.position()
            except Exception as exc:
                log.debug("monitor: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every.total_seconds())
