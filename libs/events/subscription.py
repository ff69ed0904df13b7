"""Feeds that drive a Projector: tailing the store (embedded) or a Kafka consumer group
(distributed). The projection code is the same; only where events come from differs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import TopicPartition

from libs.events.kafka import METADATA_REFRESH_MS, consumer, decode
from libs.events.projection import Projector
from libs.events.store.port import EventStore
from libs.events.wake import wait_any

log = logging.getLogger(__name__)


class StoreTail:
    """Read the store after the projector's checkpoint, in commit order.

    Woken by `wakeup` (the store's in-process append listener sets it), so an idle process
    does no work; `poll` is only a safety net for appends this process cannot hear of (another
    process writing the same SQLite file, a listener that failed).
    """

    def __init__(self, store: EventStore, projector: Projector, batch: int = 1000, poll: float = 5.0) -> None:
        self.store, self.projector, self.batch, self.poll = store, projector, batch, poll
        self.wakeup = asyncio.Event()

    async def catch_up(self) -> int:
        """Process everything committed so far; returns the number of events read."""
        total = 0
        position = await self.projector.position()
        while events := await self.store.read_all(position, self.batch):
            await self.projector.handle(events)
            position = events[-1].position
            total += len(events)
        return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wakeup.clear()  # before reading: an append during the catch-up wakes the next one
            try:
                await self.catch_up()
            except Exception as exc:
                log.warning("projection %s: %s; retrying", self.projector.name, exc)
            await wait_any(stop, self.wakeup, within=self.poll)


class KafkaFeed:
    """One consumer group per projection; offsets are committed after the read model commits.

    Offsets are a hint only: the projector's own per-stream checkpoints decide what is
    applied, so a replay from offset 0 (or a broker that lost its offsets) is harmless.

    The feed, not the reconcile sweep, is what delivers: the consumer refreshes the topic's
    metadata every `metadata_refresh` seconds (aiokafka's default is 5 minutes), so partitions
    added to the topic (the relay growing a topic a client's metadata request auto-created
    with one partition, an operator adding partitions) are joined within seconds. `applied`
    and `reconciled` count what each path applied; `lag` is the consumer lag per partition.
    `reconcile_every=None` turns the sweep off (the proofs that the feed delivers). With an
    `instance_id` the member is static (KIP-345): restarted after a crash, it takes back its
    partitions at once instead of waiting for the dead member's session to expire.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        projector: Projector,
        group_id: str | None = None,
        reconcile_every: float | None = 10.0,
        grace: float = 30.0,
        metadata_refresh: float = METADATA_REFRESH_MS / 1000,
        instance_id: str | None = None,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self.bootstrap, self.topic, self.projector = bootstrap, topic, projector
        self.group_id = group_id or f"projection.{projector.name}"
        self.reconcile_every, self.grace = reconcile_every, grace
        self.metadata_refresh = metadata_refresh
        self.instance_id = f"{self.group_id}/{instance_id}" if instance_id else None  # static membership
        self.consumed = 0  # messages decoded
        self.applied = 0  # events the feed applied (duplicates skipped are not counted)
        self.reconciled = 0  # events the sweep had to apply
        self.partitions: list[int] = []  # assigned to this member now
        self.lag: dict[int, int] = {}  # partition -> messages behind the high watermark
        self._next: dict[int, int] = {}  # partition -> next offset to read
        self.idle_pause = 0.15  # without a wakeup: how long an idle feed stops fetching
        self.wakeup = wakeup  # set when the relay has published (LISTEN/NOTIFY or in-process)
        self.linger = 0.5  # after a wake-up or a message: keep fetching this long before pausing
        self.safety_poll = 5.0  # paused with a wakeup: look anyway after this long
        self._active_until = 0.0

    async def _sweep(self, stop: asyncio.Event, every: float) -> None:
        """Periodically apply from the store what the broker failed to deliver."""
        while not stop.is_set():
            try:
                self.reconciled += await self.projector.reconcile(self.grace)
            except Exception as exc:
                log.warning("feed %s: reconcile failed: %s", self.group_id, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    async def run(self, stop: asyncio.Event, max_backoff: float = 5.0) -> None:
        every = self.reconcile_every
        sweeper = asyncio.create_task(self._sweep(stop, every)) if every else None
        try:
            await self._consume(stop, max_backoff)
        finally:
            if sweeper is not None:
                sweeper.cancel()

    def _consumer(self) -> AIOKafkaConsumer:
        kafka = consumer(self.bootstrap, None, self.group_id, group_instance_id=self.instance_id,
                         metadata_max_age_ms=int(self.metadata_refresh * 1000))
        kafka.subscribe([self.topic], listener=_Assignments(self))
        return kafka

    async def _consume(self, stop: asyncio.Event, max_backoff: float) -> None:
        backoff = 0.2
        while not stop.is_set():
            kafka = self._consumer()
            try:
                await kafka.start()
                backoff = 0.2
                empty = 0
                while not stop.is_set():
                    batches = await kafka.getmany(timeout_ms=50, max_records=2000)
                    self._note_lag(kafka, batches)
                    if not batches:
                        empty += 1
                        if empty > 1:  # one empty poll during a catch-up is the prefetch lagging
                            await self._idle(kafka, stop)
                        continue
                    empty = 0
                    self._active_until = asyncio.get_running_loop().time() + self.linger
                    await self._handle(batches)
                    await kafka.commit({tp: msgs[-1].offset + 1 for tp, msgs in batches.items()})
            except Exception as exc:
                log.warning("feed %s: %s; reconnecting in %.1fs", self.group_id, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(max_backoff, backoff * 2)
            finally:
                try:
                    await kafka.stop()
                except Exception as exc:
                    log.debug("consumer stop: %s", exc)

    def _note_lag(self, kafka: AIOKafkaConsumer, batches: dict[TopicPartition, list]) -> None:  # type: ignore[type-arg]
        """Consumer lag per assigned partition: the high watermark of the last fetch minus
        the next offset to read (known once a message was read from that partition)."""
        for tp, messages in batches.items():
            self._next[tp.partition] = messages[-1].offset + 1
        lag: dict[int, int] = {}
        for tp in kafka.assignment():
            high = kafka.highwater(tp)
            if high is not None:
                lag[tp.partition] = max(0, high - self._next.get(tp.partition, 0))
        self.lag = lag

    async def _idle(self, kafka: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        """Stop fetching while there is nothing to read.

        Some Kafka-protocol brokers (noida-db) answer an empty fetch at once instead of
        long-polling for fetch_max_wait_ms, which makes aiokafka's prefetcher spin; an idle
        projector would burn a core. So an idle feed pauses its assignment. With a `wakeup`
        (the relay NOTIFYs when it published) it stays paused until woken, then fetches for
        `linger` seconds; without one it pauses for `idle_pause` at a time. Under load it
        never pauses (this follows two empty polls in a row and the linger).
        """
        loop = asyncio.get_running_loop()
        partitions = kafka.assignment()
        if not partitions or loop.time() < self._active_until:
            return
        kafka.pause(*partitions)
        try:
            if self.wakeup is None:
                await wait_any(stop, within=self.idle_pause)
            else:
                await wait_any(stop, self.wakeup, within=self.safety_poll)
                if self.wakeup.is_set():  # a publication: linger; a safety look: two polls only
                    self.wakeup.clear()
                    self._active_until = loop.time() + self.linger
        finally:
            kafka.resume(*[tp for tp in partitions if tp in kafka.assignment()])

    async def _handle(self, batches: dict[TopicPartition, list]) -> None:  # type: ignore[type-arg]
        events = []
        for messages in batches.values():
            for message in messages:
                try:
                    events.append(decode(message.value))
                except Exception as exc:
                    log.error("feed %s: undecodable message at %s: %s", self.group_id, message.offset, exc)
        self.consumed += len(events)
        if events:
            result = await self.projector.handle(events)
            self.applied += result.applied + result.filled


class _Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Logs every change of the partitions this member reads (a topic grew, a member came or went)."""

    def __init__(self, feed: KafkaFeed) -> None:
        self.feed = feed

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        now = sorted(tp.partition for tp in assigned)
        if now != self.feed.partitions:
            log.info("feed %s: reading partitions %s of %s (was %s)",
                     self.feed.group_id, now, self.feed.topic, self.feed.partitions)
        self.feed.partitions = now
        self.feed._next = {p: o for p, o in self.feed._next.items() if p in now}
