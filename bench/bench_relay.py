"""Outbox relay publish rate to a Kafka-protocol broker, and projection catch-up from Kafka
into a PostgreSQL read model.

Baselines, same run, same broker: a bare aiokafka producer sending the very messages the
relay sends (pre-encoded, same producer settings), and a bare aiokafka consumer reading
the topic without decoding anything. The relay also reads the store, encodes the
CloudEvents and checkpoints; the projection also decodes, upcasts and validates every
event, skips what it has seen (per-stream checkpoints) and commits the read model with
its checkpoints in one transaction per poll. Broker: BENCH_BROKER (tansu | noida), or
KAFKA_BOOTSTRAP if set.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.bench_eventsourcing import our_events
from bench.report import Report
from bench.servers import running_broker
from bench.support import fresh_postgres
from libs.events import catalog
from libs.events.envelope import StoredEvent
from libs.events.kafka import encode, ensure_topic, producer
from libs.events.projection import Batched, Projection, Projector
from libs.events.relay import KafkaPublisher, Relay
from libs.events.schema import stream_checkpoints
from libs.events.sqlutil import upsert
from libs.events.store import SqlEventStore, store_for
from libs.events.subscription import KafkaFeed

STREAMS = int(os.environ.get("BENCH_RELAY_STREAMS", "2000"))  # x 10 events: 1 reported + 9 escalated
ROUNDS = 2
EVENTS_PER_ORDER = 10
PARTITIONS = 6

# -- the read model: each order's current tier and how often it moved (as in the tests) --------

md = MetaData()
tiers = Table(
    "bench_tiers",
    md,
    Column("stream_id", String(100), primary_key=True),
    Column("tier", String(20), nullable=False),
    Column("moves", Integer, nullable=False),
    Column("last_position", Integer, nullable=False),
)


async def on_escalated(conn: AsyncConnection, items: list[tuple[StoredEvent, Any]]) -> None:
    """A run of escalations: one SELECT for the orders involved, one upsert for all of them."""
    streams = {event.stream_id for event, _ in items}
    found = await conn.execute(select(tiers.c.stream_id, tiers.c.moves).where(tiers.c.stream_id.in_(streams)))
    moves = {r[0]: r[1] for r in found}
    rows: dict[str, dict[str, Any]] = {}
    for event, data in items:
        assert isinstance(data, catalog.OrderEscalated)
        moves[event.stream_id] = moves.get(event.stream_id, 0) + 1
        rows[event.stream_id] = {"stream_id": event.stream_id, "tier": data.to_tier,
                                 "moves": moves[event.stream_id], "last_position": event.position}
    await upsert(conn, tiers, list(rows.values()), ["stream_id"])


class CountingProjector(Projector):
    """Times the projector from its first batch (after the consumer joined its group and
    got its first records) to the commit of the batch that completes the topic."""

    handled = 0
    batches = 0
    first = last = 0.0
    target = 0
    done: asyncio.Event


    async def handle(self, events: Any) -> Any:
        if not self.first:
            self.first = time.perf_counter()
        result = await super().handle(events)
        self.handled += len(events)
        self.batches += 1
        self.last = time.perf_counter()
        if self.handled >= self.target and await self.complete():
            self.done.set()
        return result

    async def complete(self) -> bool:
        """Every order applied up to its last version (redeliveries make `handled` overshoot)."""
        sc = stream_checkpoints
        query = select(func.count()).where(sc.c.projection == self.name, sc.c.version >= EVENTS_PER_ORDER)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one()) >= STREAMS


def projection() -> Projection:
    return Projection("bench_tiers", md, {"order.escalated": Batched(on_escalated)})


@contextmanager
def broker() -> Iterator[str]:
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    with running_broker(os.environ.get("BENCH_BROKER", "tansu")) as running:
        yield running.bootstrap


async def fill(store: SqlEventStore) -> int:
    """STREAMS orders of 10 events each, written by 4 concurrent writers."""

    async def writer(k: int) -> None:
        for n in range(k, STREAMS, 4):
            await store.append(f"order-{n}", our_events(n), 0)

    await asyncio.gather(*(writer(k) for k in range(4)))
    return await store.head_position()


async def run(report: Report) -> None:
    with broker() as bootstrap:
        async with fresh_postgres() as (_url, engine):
            store = store_for(engine)
            started = time.perf_counter()
            total = await fill(store)
            report.line(f"store filled with {total:,} events ({STREAMS:,} orders) in {time.perf_counter() - started:.1f}s; "
                        f"broker {os.environ.get('BENCH_BROKER', 'tansu') if 'KAFKA_BOOTSTRAP' not in os.environ else bootstrap}")
            events = await store.read_all(0, total)
            messages = [encode(e) for e in events]
            publish: dict[str, float] = {}
            catch_up: dict[str, float] = {}
            topics: list[str] = []
            for round_ in range(ROUNDS):
                raw_topic, relay_topic = f"bench-raw-{round_}-{time.time_ns()}", f"bench-relay-{round_}-{time.time_ns()}"
                topics.append(relay_topic)
                publish["raw"] = max(publish.get("raw", 0.0), await raw_publish(bootstrap, raw_topic, messages))
                publish["relay"] = max(publish.get("relay", 0.0), await relay_publish(store, engine, bootstrap, relay_topic))
            for round_, topic in enumerate(topics):
                catch_up["raw"] = max(catch_up.get("raw", 0.0), await raw_consume(bootstrap, topic, total))
                rate, moves, batches = await project(store, engine, bootstrap, topic, total, round_)
                catch_up["projection"] = max(catch_up.get("projection", 0.0), rate)
    report.figure("bare aiokafka producer, same messages", publish["raw"], "events/s")
    report.figure("relay: store -> CloudEvents -> topic, checkpointed", publish["relay"], "events/s",
                  baseline=publish["raw"])
    report.figure("bare aiokafka consumer, no decoding", catch_up["raw"], "events/s")
    report.figure("projection catch-up: topic -> PostgreSQL read model", catch_up["projection"], "events/s",
                  baseline=catch_up["raw"])
    met = "met" if catch_up["projection"] >= 10_000 else "NOT met"
    report.line(f"catch-up target >= 10,000 events/s: {met}; {batches} transactions; read model moves = {moves:,} "
                f"(expected {STREAMS * 9:,})")


async def raw_publish(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> float:
    await ensure_topic(bootstrap, topic, PARTITIONS)
    kafka = producer(bootstrap)
    await kafka.start()
    try:
        started = time.perf_counter()
        for first in range(0, len(messages), 2000):
            futures = [
                await kafka.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in messages[first:first + 2000]
            ]
            await asyncio.gather(*futures)
        return len(messages) / (time.perf_counter() - started)
    finally:
        await kafka.stop()


async def relay_publish(store: SqlEventStore, engine: AsyncEngine, bootstrap: str, topic: str) -> float:
    relay = Relay(store, engine, KafkaPublisher(bootstrap, topic, partitions=PARTITIONS), name=f"relay:{topic}")
    await relay.publisher.start()
    try:
        started = time.perf_counter()
        while await relay.run_once():
            pass
        return relay.published / (time.perf_counter() - started)
    finally:
        await relay.publisher.stop()


async def raw_consume(bootstrap: str, topic: str, total: int) -> float:
    kafka = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"raw-{topic}", auto_offset_reset="earliest",
                             enable_auto_commit=False, max_poll_records=2000)
    await kafka.start()
    try:
        seen, started = 0, 0.0
        while seen < total:
            batches = await kafka.getmany(timeout_ms=500, max_records=2000)
            if batches and not started:
                started = time.perf_counter()
            seen += sum(len(m) for m in batches.values())
        return seen / (time.perf_counter() - started)
    finally:
        await kafka.stop()


async def project(
    store: SqlEventStore, engine: AsyncEngine, bootstrap: str, topic: str, total: int, round_: int
) -> tuple[float, int, int]:
    """Events/s from the first batch handed to the projector to the commit of the last."""
    projector = CountingProjector(engine, projection(), store)
    projector.target, projector.done = total, asyncio.Event()
    await projector.setup()
    await projector.reset()
    feed = KafkaFeed(bootstrap, topic, projector, group_id=f"bench-{round_}-{topic}", reconcile_every=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(feed.run(stop))
    try:
        await asyncio.wait_for(projector.done.wait(), timeout=300)
    finally:
        stop.set()
        await running
    async with engine.connect() as conn:
        moves = int((await conn.execute(select(func.coalesce(func.sum(tiers.c.moves), 0)))).scalar_one())
    return projector.handled / (projector.last - projector.first), moves, projector.batches
