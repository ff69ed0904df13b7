"""Projector guarantees on both backends, and the two feeds giving one read model."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.servers import Broker
from libs.events import catalog
from libs.events.clock import ManualClock
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection, Projector, dump_read_model
from libs.events.relay import KafkaPublisher, Relay
from libs.events.schema import dead_letters
from libs.events.sqlutil import upsert
from libs.events.store import SqlEventStore, store_for
from libs.events.subscription import KafkaFeed, StoreTail
from tests.factories import escalated

pytestmark = pytest.mark.integration

md = MetaData()
tiers = Table(
    "test_tiers",
    md,
    Column("stream_id", String(100), primary_key=True),
    Column("tier", String(20)),
    Column("moves", Integer),
    Column("last_position", Integer),
)


async def on_escalated(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderEscalated) -> None:
    if data.reason == "boom":
        raise RuntimeError("handler bug")
    row = (await conn.execute(select(tiers.c.moves).where(tiers.c.stream_id == event.stream_id))).first()
    moves = (row[0] if row else 0) + 1
    values = {"stream_id": event.stream_id, "tier": data.to_tier, "moves": moves, "last_position": event.position}
    await upsert(conn, tiers, [values], ["stream_id"])


def projection() -> Projection:
    return Projection("test_tiers", md, {"order.escalated": on_escalated})


async def _fill(store: Any, streams: int = 30, events: int = 400) -> None:
    rng = random.Random(7)
    for i in range(events):
        await store.append(f"order-{rng.randrange(streams)}", [escalated(i)], None)


async def test_duplicates_and_redeliveries_change_nothing(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await _fill(store)
    projector = Projector(engine, projection(), store)
    await projector.setup()
    everything = await store.read_all(0, 10_000)
    await projector.handle(everything[:250])
    await projector.handle(everything[100:])
    once = await dump_read_model(engine, md)
    await projector.handle(everything)
    await projector.handle(list(reversed(everything[:50])))
    assert await dump_read_model(engine, md) == once
    assert sum(r[2] for r in once["test_tiers"]) == 400


async def test_rebuild_from_scratch_is_identical(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await _fill(store)
    projector = Projector(engine, projection(), store)
    await projector.setup()
    tail = StoreTail(store, projector, batch=37)
    await tail.catch_up()
    live = await dump_read_model(engine, md)
    assert await projector.rebuild(batch=100) == 400
    assert await dump_read_model(engine, md) == live


async def test_unknown_or_newer_events_go_to_dead_letters_and_the_projection_goes_on(engine: AsyncEngine) -> None:
    raw = SqlEventStore(engine, validate=False)
    await raw.append("order-1", [escalated(1)], 0)
    await raw.append("order-1", [escalated(2).model_copy(update={"type": "order.teleported"})], 1)
    await raw.append("order-1", [escalated(3).model_copy(update={"schema_version": 7})], 2)
    await raw.append("order-1", [escalated(4).model_copy(update={"data": {**escalated(4).data, "reason": "boom"}})], 3)
    await raw.append("order-1", [escalated(5)], 4)
    projector = Projector(engine, projection(), raw)
    await projector.setup()
    await StoreTail(raw, projector).catch_up()
    async with engine.connect() as conn:
        dead = (await conn.execute(select(dead_letters.c.version, dead_letters.c.reason))).all()
        moves = (await conn.execute(select(tiers.c.moves))).scalar_one()
    reasons = dict(dead)
    assert set(reasons) == {2, 3, 4}
    assert "not in the catalog" in reasons[2] and "newer" in reasons[3] and "handler bug" in reasons[4]
    assert moves == 2  # versions 1 and 5 applied


async def test_a_hole_in_a_stream_is_filled_from_the_store(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(i) for i in range(1, 5)], 0)
    events = await store.read_stream("order-1")
    projector = Projector(engine, projection(), store)
    await projector.setup()
    result = await projector.handle([events[0], events[3]])  # 2 and 3 were lost on the way
    assert result.filled == 2
    async with engine.connect() as conn:
        assert (await conn.execute(select(tiers.c.moves))).scalar_one() == 4


async def test_kafka_feed_and_store_tail_build_the_same_read_model(postgres: AsyncEngine, broker: Broker) -> None:
    store = store_for(postgres)
    await _fill(store, events=600)
    topic = f"orders-{random.randrange(10**9)}"
    relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=3), name=f"relay:{topic}")
    await relay.publisher.start()
    while await relay.run_once():
        pass
    await relay.publisher.stop()
    # publish a second time: every message is on the topic twice (a relay crash replay)
    relay2 = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=3), name=f"relay2:{topic}")
    await relay2.publisher.start()
    while await relay2.run_once():
        pass
    await relay2.publisher.stop()

    projector = Projector(postgres, projection(), store)
    await projector.setup()
    feed = KafkaFeed(broker.bootstrap, topic, projector, group_id=f"g-{topic}", reconcile_every=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(feed.run(stop))
    for _ in range(300):
        if feed.consumed >= 1200:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await running
    from_kafka = await dump_read_model(postgres, md)
    await projector.reset()
    await StoreTail(store, projector).catch_up()
    assert await dump_read_model(postgres, md) == from_kafka
    assert sum(r[2] for r in from_kafka["test_tiers"]) == 600


async def test_reconcile_applies_what_the_broker_never_delivered(postgres: AsyncEngine) -> None:
    store = store_for(postgres)
    await _fill(store, events=50)
    projector = Projector(postgres, projection(), store)
    await projector.setup()
    assert await projector.reconcile(grace=0) == 50
    assert await projector.reconcile(grace=0) == 0


async def test_reconcile_never_passes_an_unripe_event(engine: AsyncEngine) -> None:
    """Positions follow the append lock, recorded_at the moment a writer started: a writer
    that waited for the lock stores an older recorded_at after a younger one. A sweep whose
    horizon falls between them must not advance past the younger (CI lost an event so)."""
    at = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    store_clock = ManualClock(at + timedelta(milliseconds=20))
    store = store_for(engine, store_clock)
    await store.append("order-late", [escalated(1)], 0)  # position 1, recorded 01:00:00.020
    store_clock.set(at)
    await store.append("order-early", [escalated(1)], 0)  # position 2, recorded 01:00:00.000
    sweep_clock = ManualClock(at + timedelta(milliseconds=10, seconds=30))  # horizon between the two
    projector = Projector(engine, projection(), store, clock=sweep_clock)
    await projector.setup()
    await projector.reconcile(grace=30)
    sweep_clock.advance(seconds=1)
    await projector.reconcile(grace=30)
    assert sorted(r[0] for r in (await dump_read_model(engine, md))["test_tiers"]) == ["order-early", "order-late"]


async def test_two_projectors_racing_on_the_same_events_apply_each_once(engine: AsyncEngine) -> None:
    """A feed and a reconcile sweep (or two processes mid-rebalance) overlapping."""
    store = store_for(engine)
    await _fill(store, streams=5, events=200)
    first, second = Projector(engine, projection(), store), Projector(engine, projection(), store)
    await first.setup()
    events = await store.read_all(0, 10_000)
    await asyncio.gather(*(p.handle(events[i:i + 40]) for i in range(0, 200, 20) for p in (first, second)))
    tiers_rows = (await dump_read_model(engine, md))["test_tiers"]
    assert sum(r[2] for r in tiers_rows) == 200
