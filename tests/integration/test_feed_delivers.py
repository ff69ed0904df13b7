"""Kafka delivers, not the sweep: with the reconcile sweep OFF, a feed reads every partition of
its topic, also partitions added after it subscribed (on both brokers where they can)."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import Broker
from libs.events.kafka import partition_count
from libs.events.projection import Projector
from libs.events.relay import KafkaPublisher, Relay
from libs.events.store import store_for
from libs.events.subscription import KafkaFeed
from tests.factories import escalated
from tests.integration.test_projection import projection, tiers

pytestmark = pytest.mark.integration
WITHIN = 10.0  # seconds from the growth to every event in the read model


async def _rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(tiers))).scalar_one())


async def _until(condition: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


async def _partitions(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await partition_count(admin, topic)
    finally:
        await admin.close()


async def test_a_feed_subscribed_before_its_topic_existed_reads_every_partition(
    postgres: AsyncEngine, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """The deploy order: the projector subscribes first (noida auto-creates the topic with one
    partition on its metadata request), the relay then creates or grows it to six."""
    store = store_for(postgres)
    topic = f"feed-{random.randrange(10**9)}"
    projector = Projector(postgres, projection(), store)
    await projector.setup()
    feed = KafkaFeed(broker.bootstrap, topic, projector, group_id=f"g-{topic}", reconcile_every=None)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="libs.events.subscription")
    consuming = asyncio.create_task(feed.run(stop))
    relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=6, topic_check=0.2),
                  name=f"relay:{topic}")
    if broker.kind == "noida":  # the consumer's metadata request auto-creates it: wait until it reads it
        assert await _until(lambda: _true(feed.partitions == [0]), 15), feed.partitions
    relaying = asyncio.create_task(relay.run(stop, idle=0.02))
    try:
        streams = [f"order-{i}" for i in range(60)]
        for stream in streams:
            await store.append(stream, [escalated(1)], 0)
        grown = time.monotonic()
        reached = await _until(lambda: _count_is(postgres, len(streams)), WITHIN)
        took = time.monotonic() - grown
        partitions = await _partitions(broker.bootstrap, topic)
    finally:
        stop.set()
        await asyncio.gather(consuming, relaying)
    assert reached, f"{await _rows(postgres)} of {len(streams)} streams after {WITHIN:.0f}s, " \
                    f"feed reads partitions {feed.partitions}"
    assert feed.applied == len(streams) and feed.reconciled == 0, (feed.applied, feed.reconciled)
    assert feed.partitions == list(range(partitions)) and took < WITHIN
    if broker.kind == "noida":  # it auto-created the topic with one: the growth was followed
        assert partitions == 6 and "reading partitions [0, 1, 2, 3, 4, 5]" in caplog.text


async def _true(value: bool) -> bool:
    return value


async def _count_is(engine: AsyncEngine, n: int) -> bool:
    return await _rows(engine) >= n


async def test_a_feed_follows_partitions_added_while_it_reads(postgres: AsyncEngine, noida: Broker) -> None:
    """An operator (or the relay after a broker came back empty) grows the topic under a running
    feed: events on the new partitions reach the read model through the feed within seconds.
    noida only: Tansu has no CreatePartitions (docs/kafka-broker.md)."""
    store = store_for(postgres)
    topic = f"grow-{random.randrange(10**9)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=noida.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        projector = Projector(postgres, projection(), store)
        await projector.setup()
        feed = KafkaFeed(noida.bootstrap, topic, projector, group_id=f"g-{topic}", reconcile_every=None)
        relay = Relay(store, postgres, KafkaPublisher(noida.bootstrap, topic, partitions=1),
                      name=f"relay:{topic}")
        stop = asyncio.Event()
        consuming = asyncio.create_task(feed.run(stop))
        relaying = asyncio.create_task(relay.run(stop, idle=0.02))
        try:
            await store.append("order-first", [escalated(1)], 0)
            assert await _until(lambda: _count_is(postgres, 1), WITHIN)
            await admin.create_partitions({topic: NewPartitions(total_count=4)})
            grown = time.monotonic()
            for i in range(40):  # spread over ~6 s: producer and consumer learn of the growth meanwhile
                await store.append(f"order-later-{i}", [escalated(1)], 0)
                await asyncio.sleep(0.15)
            reached = await _until(lambda: _count_is(postgres, 41), WITHIN)
            took = time.monotonic() - grown
        finally:
            stop.set()
            await asyncio.gather(consuming, relaying)
    finally:
        await admin.close()
    assert reached, f"{await _rows(postgres)} of 41 after {WITHIN:.0f}s; partitions {feed.partitions}"
    assert feed.partitions == [0, 1, 2, 3] and feed.applied == 41 and feed.reconciled == 0
    assert len([p for p in feed._next if p > 0]) >= 2 and took < WITHIN  # the new partitions carried events
