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

log = logging.getLogger(__name__)


class StoreTail:
    """Read the store after the projector's checkpoint, in commit order."""

    def __init__(self, store: EventStore, projector: Projector, batch: int = 1000, poll: float = 0.1) -> None:
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
            try:
                await self.catch_up()
            except Exception as exc:
                log.warning("projection %s: %s; retrying", self.projector.name, exc)
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wakeup.wait())]
            await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()


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
        self.idle_pause = 0.15

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
        """Stop fetching for a moment when there is nothing to read.

        Some Kafka-protocol brokers (noida-db) answer an empty fetch at once instead of
        long-polling for fetch_max_wait_ms, which makes aiokafka's prefetcher spin; an idle
        projector then burns a core. Pausing the assignment costs at most `idle_pause` of
        latency after a quiet spell and nothing under load (it follows two empty polls in a
        row: a single one mid catch-up only means the prefetch has not caught up).
        """
        partitions = kafka.assignment()
        if not partitions:
            return
        kafka.pause(*partitions)
        try:
            await asyncio.wait_for(stop.wait(), timeout=self.idle_pause)
        except TimeoutError:
            pass
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
