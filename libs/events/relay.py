"""Outbox relay: the events table is the outbox; publish it to Kafka in commit order.

At-least-once: publish a batch, wait for every ack, then move the checkpoint. A crash
between the two republishes the batch (consumers skip what they have seen). A broker
outage only stalls this loop; appends never wait for it. Because the store guarantees
that positions become visible in commit order, reading "after the checkpoint" never
skips a late commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.kafka import encode, ensure_topic, forget_outcome, grow_topic, producer, stop_producer
from libs.events.schema import checkpoints
from libs.events.sqlutil import upsert
from libs.events.store.port import EventStore
from libs.events.wake import wait_any

log = logging.getLogger(__name__)
T = TypeVar("T")
# NOTIFYed (PostgreSQL) when the relay's checkpoint moved: what it read is acked by the broker,
# so a paused Kafka feed knows there is something to fetch.
PUBLISHED = "events_published"


class TopicMissing(Exception):
    """The topic disappeared under the relay (acks cannot be trusted)."""


class BrokerStalled(Exception):
    """A step with the broker took longer than the relay allows; it starts over."""


class Publisher(Protocol):
    """The seam between the relay and the broker (tests pass an in-memory one)."""

    async def start(self) -> None: ...
    async def publish(self, events: Sequence[StoredEvent]) -> None: ...
    async def stop(self) -> None: ...


class KafkaPublisher:
    def __init__(self, bootstrap: str, topic: str, partitions: int = 6, topic_check: float = 2.0) -> None:
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.topic_check = topic_check
        self._producer: AIOKafkaProducer | None = None  # made in start(): an unstarted one warns when collected
        self._admin: AIOKafkaAdminClient | None = None
        self._generation = 0  # bumped by stop(): a start that began before it keeps nothing
        self._checked_at = 0.0
        self._growable = True  # until the broker refuses to grow the topic

    async def start(self) -> None:
        """Connect (a no-op when connected). The clients are built in locals and kept only if
        this start completes with no stop() in between: a start the relay gave up on (it
        stalled, and its cancelled remains may still be running) can never close or replace
        the clients of a later one."""
        if self._producer is not None:
            return
        generation = self._generation
        await ensure_topic(self.bootstrap, self.topic, self.partitions)
        kafka = producer(self.bootstrap)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            await kafka.start()
            await admin.start()  # kept open: the topic check must not cost a new connection
        except BaseException:
            await _close(kafka, admin)
            raise
        if generation != self._generation:
            await _close(kafka, admin)
            raise BrokerStalled("stopped while connecting")
        self._producer, self._admin = kafka, admin
        self._checked_at = time.monotonic()

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        if self._producer is None:
            raise RuntimeError("publish before start")
        started = time.monotonic()
        futures = []
        for event in events:
            key, value, headers = encode(event)
            futures.append(await self._producer.send(self.topic, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
        now = time.monotonic()
        if now - started > 1.0 or now - self._checked_at > self.topic_check:
            # A broker that restarted empty (memory brokers, a recreated topic) may ack
            # produces into nothing. Trust the acks only if the topic is still there;
            # otherwise fail the batch so the relay republishes it after re-creating it.
            if self._admin is None or self.topic not in await self._admin.list_topics():
                raise TopicMissing(f"topic {self.topic} vanished while publishing")
            if self._growable:  # our producer's own metadata request may have auto-created it
                self._growable = await grow_topic(self._admin, self.topic, self.partitions)
            self._checked_at = now

    async def stop(self) -> None:
        self._generation += 1
        kafka, admin = self._producer, self._admin
        self._producer = self._admin = None
        await _close(kafka, admin)


async def _close(kafka: AIOKafkaProducer | None, admin: AIOKafkaAdminClient | None) -> None:
    try:
        if kafka is not None:
            await _quietly(stop_producer(kafka))
    finally:  # also when a stalled stop is cancelled: the admin client must not be left running
        if admin is not None:
            await _quietly(admin.close())


class Relay:
    def __init__(
        self,
        store: EventStore,
        engine: AsyncEngine,
        publisher: Publisher,
        name: str = "relay:service-orders.v1",
        batch: int = 2000,
        clock: Clock = system_clock,
        broker_timeout: float = 30.0,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self.store, self.engine, self.publisher = store, engine, publisher
        self.wakeup = wakeup  # set on every append (LISTEN/NOTIFY or in-process): no polling
        self.safety_poll = 2.0  # with a wakeup, look anyway after this long
        self.name, self.batch, self.clock = name, batch, clock
        self.broker_timeout = broker_timeout
        self.published = 0
        self.failures = 0
        self.lag = 0  # events after the checkpoint, as last measured by the process's monitor
        self._position: int | None = None  # cached after the first read; this loop is its only writer

    async def position(self) -> int:
        async with reader(self.engine).connect() as conn:
            row = (await conn.execute(select(checkpoints.c.position).where(checkpoints.c.name == self.name))).first()
        return int(row[0]) if row else 0

    async def _save(self, position: int) -> None:
        async with self.engine.begin() as conn:
            row = {"name": self.name, "position": position, "fingerprint": "", "updated_at": self.clock()}
            await upsert(conn, checkpoints, [row], ["name"])
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_notify(:c, '')"), {"c": PUBLISHED})
        self._position = position

    async def run_once(self) -> int:
        """Publish the next batch after the checkpoint; returns how many were published."""
        if self._position is None:
            self._position = await self.position()
        events = await self.store.read_all(self._position, self.batch)
        if not events:
            return 0
        await self._bounded(self.publisher.publish(events), "publishing")
        await self._save(events[-1].position)
        self.published += len(events)
        return len(events)

    async def run(self, stop: asyncio.Event, idle: float = 0.05, max_backoff: float = 5.0) -> None:
        backoff = idle
        started = False
        while not stop.is_set():
            if self.wakeup is not None:
                self.wakeup.clear()  # before reading: an append from now on wakes the next pass
            try:
                if not started:
                    await self._bounded(self.publisher.start(), "connecting")
                    started = True
                sent = await self._pass()
                backoff = idle
                if sent:
                    continue
                if self.wakeup is not None:
                    await wait_any(stop, self.wakeup, within=self.safety_poll)
                    continue
            except Exception as exc:  # broker or database down: wait and retry, never give up
                self.failures += 1
                log.warning("relay %s: %s; retrying in %.1fs", self.name, exc, backoff)
                await _quietly(self._bounded(self.publisher.stop(), "disconnecting"))  # also what a stalled start began
                started = False
                backoff = min(max_backoff, backoff * 2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
        if started:
            await _quietly(self._bounded(self.publisher.stop(), "disconnecting"))

    async def _pass(self) -> int:
        """One run_once with a deadline too (its database reads and checkpoint write are not
        broker steps): nothing the relay waits on may stall it for good. A pass cut short
        republishes its batch (the checkpoint moves only after the acks)."""
        return await self._bounded(self.run_once(), "a pass", 2 * self.broker_timeout)

    async def _bounded(self, step: Awaitable[T], what: str, limit: float | None = None) -> T:
        """Every wait ends: the client library's own timeouts cover single requests, yet twice
        in CI a relay went silent for minutes right after a broker came back empty. A stalled
        step fails like any broker error: the publisher is torn down and rebuilt, and the
        batch, not yet checkpointed, is published again (at-least-once). The stalled step is
        cancelled but not awaited (asyncio.wait_for would wait for its cleanup, which may
        hang on the same broker)."""
        limit = self.broker_timeout if limit is None else limit
        task = asyncio.ensure_future(step)
        try:
            done, _ = await asyncio.wait({task}, timeout=limit)
        finally:
            if not task.done():
                task.cancel()
                task.add_done_callback(forget_outcome)
        if not done:
            raise BrokerStalled(f"{what} took longer than {limit:.0f}s")
        return task.result()


async def _quietly(coro: object) -> None:
    try:
        await coro  # type: ignore[misc]
    except Exception as exc:  # best effort on shutdown
        log.debug("ignored during stop: %s", exc)
