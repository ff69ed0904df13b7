"""Outbox relay against real brokers (both wheels) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import signal
from collections import defaultdict
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import Broker, running_broker
from libs.events.kafka import consumer, decode, ensure_topic, partition_count, producer, stop_producer
from libs.events.relay import KafkaPublisher, Relay
from libs.events.store import store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration


async def _read_topic(bootstrap: str, topic: str, expected: int, wait: float = 60) -> list[tuple[str, int, int]]:
    """(stream, version, position) of every message on the topic, in per-partition order."""
    kafka = consumer(bootstrap, topic, group_id=f"reader-{random.random()}")
    await kafka.start()
    seen: list[tuple[str, int, int]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while len({p for _, _, p in seen}) < expected and loop.time() < deadline:
            for messages in (await kafka.getmany(timeout_ms=500)).values():
                for m in messages:
                    e = decode(m.value)
                    assert m.key == e.stream_id.encode()
                    seen.append((e.stream_id, e.version, e.position))
    finally:
        await kafka.stop()
    return seen


async def _until_published(relay: Relay, head: int, within: float) -> None:
    """Wait until the relay's checkpoint reaches `head` (a deadline, never a fixed sleep)."""
    for _ in range(round(within / 0.05)):
        if await relay.position() >= head:
            return
        await asyncio.sleep(0.05)


async def _run_to_head(relay: Relay, store: Any, within: float = 10) -> int:
    """Run the relay until it has published the store's head, stop it; returns that head."""
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop, idle=0.01))
    head: int = await store.head_position()
    await _until_published(relay, head, within)
    stop.set()
    await asyncio.wait_for(running, 5)
    return head


def _assert_every_stream_in_order(seen: list[tuple[str, int, int]], versions: dict[str, int]) -> None:
    by_stream: dict[str, list[int]] = defaultdict(list)
    for stream, version, _ in seen:
        by_stream[stream].append(version)
    for stream, last in versions.items():
        first_seen = list(dict.fromkeys(by_stream[stream]))
        assert first_seen == list(range(1, last + 1)), stream


async def test_concurrent_writers_never_lose_an_event(postgres: AsyncEngine, broker: Broker) -> None:
    store = store_for(postgres)
    topic = f"orders-{random.randrange(10**9)}"
    relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=3), name=f"relay:{topic}")
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop, idle=0.01))
    streams = [f"order-{i}" for i in range(40)]

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        written = 0
        while written < 500:
            size = min(rng.randint(1, 5), 500 - written)
            await store.append(rng.choice(streams), [escalated(written + k) for k in range(size)], None)
            written += size

    await asyncio.gather(*(writer(i) for i in range(20)))
    total = await store.head_position()
    assert total == 10_000
    await _until_published(relay, total, within=60)
    stop.set()
    await running
    seen = await _read_topic(broker.bootstrap, topic, total)
    assert {p for _, _, p in seen} == set(range(1, total + 1))
    _assert_every_stream_in_order(seen, {s: await store.stream_version(s) for s in streams})


async def test_broker_outage_only_delays_publication(postgres: AsyncEngine, tansu: Broker) -> None:
    """Kill the broker: appends go on; after it returns (empty, it is memory-only) the relay
    publishes everything from its checkpoint on."""
    store = store_for(postgres)
    topic = f"orders-{random.randrange(10**9)}"
    relay = Relay(store, postgres, KafkaPublisher(tansu.bootstrap, topic), name=f"relay:{topic}")
    await store.append("order-a", [escalated(1)], 0)
    await relay.publisher.start()
    assert await relay.run_once() == 1
    tansu.stop()
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop, idle=0.05, max_backoff=0.5))
    for i in range(2, 22):
        await store.append("order-a", [escalated(i)], None)  # the store never waits on the broker
    await asyncio.sleep(1.0)
    assert await relay.position() == 1
    tansu.start()
    await _until_published(relay, 21, within=30)
    stop.set()
    await running
    seen = await _read_topic(tansu.bootstrap, topic, 20)
    assert sorted({p for _, _, p in seen}) == list(range(2, 22))


async def test_crash_after_publish_before_checkpoint_republishes(postgres: AsyncEngine) -> None:
    """At-least-once: if the checkpoint write is lost, the batch goes out again."""
    store = store_for(postgres)
    sent: list[int] = []

    class Recording:
        async def start(self) -> None: ...
        async def stop(self) -> None: ...
        async def publish(self, events: list) -> None:  # type: ignore[type-arg]
            sent.extend(e.position for e in events)

    relay = Relay(store, postgres, Recording(), name="relay:crash")
    await store.append("order-a", [escalated(1), escalated(2)], 0)

    async def crash(position: int) -> None:
        raise ConnectionError("power cut")

    relay._save = crash  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await relay.run_once()
    relay = Relay(store, postgres, Recording(), name="relay:crash")
    assert await relay.run_once() == 2
    assert sent == [1, 2, 1, 2] and await relay.position() == 2


@pytest.mark.parametrize("stall_in", ["start", "publish"])
async def test_a_broker_call_that_never_returns_is_abandoned_and_retried(postgres: AsyncEngine, stall_in: str) -> None:
    """A client call that hangs (once in CI a relay waited forever on a broker that came back
    empty mid-reconnect) fails after the relay's broker timeout; the publisher is rebuilt and
    everything goes out, the stalled batch again (at-least-once)."""
    store = store_for(postgres)
    stream = f"order-stall-{stall_in}"
    await store.append(stream, [escalated(1), escalated(2)], 0)
    sent: list[int] = []
    calls = {"start": 0, "publish": 0, "stop": 0}

    class StallsOnce:
        async def _maybe_stall(self, step: str) -> None:
            calls[step] += 1
            if step == stall_in and calls[step] == 1:
                await asyncio.Event().wait()  # never set: a call that never returns

        async def start(self) -> None:
            await self._maybe_stall("start")

        async def stop(self) -> None:
            calls["stop"] += 1

        async def publish(self, events: list) -> None:  # type: ignore[type-arg]
            await self._maybe_stall("publish")
            sent.extend(e.position for e in events if e.stream_id == stream)

    relay = Relay(store, postgres, StallsOnce(), name=f"relay:stall-{stall_in}", broker_timeout=0.3)
    head = await _run_to_head(relay, store)
    assert await relay.position() == head and relay.failures >= 1
    assert calls[stall_in] >= 2 and calls["stop"] >= 1  # torn down after the stall, then started over
    assert len(set(sent)) == 2


def _client_tasks() -> list[asyncio.Task]:  # type: ignore[type-arg]
    """Tasks running aiokafka code (producer senders, metadata refreshers, connection readers)."""
    codes = {task: getattr(task.get_coro(), "cr_code", None) for task in asyncio.all_tasks()}
    return [task for task, code in codes.items() if code is not None and "aiokafka" in code.co_filename]


async def test_a_frozen_broker_stalls_the_relay_only_while_frozen(postgres: AsyncEngine) -> None:
    """SIGSTOP the broker: it accepts connections and answers nothing (a frozen VM, a long GC).
    The relay gives up on each stalled step, drops the producer's undeliverable batches and
    starts over; after SIGCONT everything is published, each stream in order, and the
    abandoned clients left nothing running behind."""
    store = store_for(postgres)
    topic = f"orders-{random.randrange(10**9)}"
    with running_broker("noida") as broker:
        assert broker.process is not None
        relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=3),
                      name=f"relay:{topic}", broker_timeout=1.5)
        before = set(_client_tasks())
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop, idle=0.02, max_backoff=0.5))
        streams = [f"order-frozen-{i}" for i in range(10)]
        for stream in streams:
            await store.append(stream, [escalated(1)], 0)
        head = await store.head_position()
        await _until_published(relay, head, within=15)
        assert await relay.position() == head
        os.killpg(broker.process.pid, signal.SIGSTOP)
        try:
            for stream in streams:
                await store.append(stream, [escalated(2), escalated(3)], 1)  # appends never wait on the broker
            await asyncio.sleep(6.0)
            assert await relay.position() < await store.head_position() and relay.failures >= 2
            senders = [t for t in _client_tasks() if t.get_coro().__qualname__ == "Sender._sender_routine"]
            assert len(senders) <= 1  # each abandoned producer was aborted, not left retrying
        finally:
            os.killpg(broker.process.pid, signal.SIGCONT)
        head = await store.head_position()
        await _until_published(relay, head, within=60)
        stop.set()
        await asyncio.wait_for(running, 30)
        assert await relay.position() == head
        for _ in range(100):  # abandoned steps finish their cleanup in the background
            if not set(_client_tasks()) - before:
                break
            await asyncio.sleep(0.1)
        assert set(_client_tasks()) - before == set()  # every abandoned producer and admin client closed
        seen = await _read_topic(broker.bootstrap, topic, 3 * len(streams))
    _assert_every_stream_in_order(seen, {s: 3 for s in streams})


async def test_a_database_read_that_never_returns_is_abandoned_and_retried(postgres: AsyncEngine) -> None:
    """Not only broker steps: a pass whose store read hangs is cut short and the relay goes on."""
    store = store_for(postgres)
    stream = "order-stall-read"
    await store.append(stream, [escalated(1)], 0)
    sent: list[int] = []

    class Recording:
        async def start(self) -> None: ...
        async def stop(self) -> None: ...
        async def publish(self, events: list) -> None:  # type: ignore[type-arg]
            sent.extend(e.version for e in events if e.stream_id == stream)

    relay = Relay(store, postgres, Recording(), name="relay:stall-read", broker_timeout=1.0)
    read_all = store.read_all
    reads: list[int] = []

    async def read_all_hanging_once(position: int, limit: int) -> list:  # type: ignore[type-arg]
        reads.append(position)
        if len(reads) == 1:
            await asyncio.Event().wait()
        return await read_all(position, limit)

    store.read_all = read_all_hanging_once  # type: ignore[method-assign]
    head = await _run_to_head(relay, store)
    assert await relay.position() == head and relay.failures >= 1 and set(sent) == {1}


async def test_a_topic_auto_created_with_one_partition_is_grown_back(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """After a broker came back empty, a consumer asking for the topic's metadata makes it
    auto-create the topic with one partition before the relay reconnects; the relay's
    ensure_topic grows it back to the configured count (where the broker can)."""
    topic = f"grow-{random.randrange(10**9)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        with caplog.at_level(logging.WARNING, logger="libs.events.kafka"):
            await ensure_topic(broker.bootstrap, topic, partitions=6)
        grown = await partition_count(admin, topic)
    finally:
        await admin.close()
    assert f"topic {topic} has 1 partition(s), 6 configured" in caplog.text
    if broker.kind == "tansu":  # no CreatePartitions (kafka-broker.md): it says so and carries on
        assert grown == 1 and f"topic {topic}: could not grow" in caplog.text
    else:
        assert grown == 6


async def test_a_broker_that_came_back_empty_gets_the_topic_with_its_partitions(postgres: AsyncEngine) -> None:
    """The broker restarts with no data while the relay and a consumer are connected: whoever
    asks for the topic first auto-creates it with one partition, and the relay grows it back
    to the configured count; every event appended afterwards is on the topic."""
    store = store_for(postgres)
    topic = f"orders-{random.randrange(10**9)}"
    with running_broker("noida") as broker:
        assert broker.data_dir is not None
        relay = Relay(store, postgres, KafkaPublisher(broker.bootstrap, topic, partitions=6, topic_check=0.2),
                      name=f"relay:{topic}", broker_timeout=5)
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop, idle=0.02, max_backoff=0.5))
        listener = consumer(broker.bootstrap, topic, group_id=f"listener-{topic}")
        await store.append("order-before", [escalated(1)], 0)
        await _until_published(relay, await store.head_position(), within=15)
        await listener.start()
        try:
            await listener.getmany(timeout_ms=500)
            broker.stop()
            shutil.rmtree(broker.data_dir)
            os.makedirs(broker.data_dir)
            broker.start()
            for _ in range(10):  # the consumer asks for the topic's metadata: noida auto-creates it
                await listener.getmany(timeout_ms=100)
            streams = [f"order-after-{i}" for i in range(24)]
            for stream in streams:
                await store.append(stream, [escalated(1), escalated(2)], 0)
            await _until_published(relay, await store.head_position(), within=30)
            assert await relay.position() == await store.head_position()
        finally:
            await listener.stop()
            stop.set()
            await asyncio.wait_for(running, 30)
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            assert await partition_count(admin, topic) == 6
        finally:
            await admin.close()
        seen = await _read_topic(broker.bootstrap, topic, 2 * len(streams))
    _assert_every_stream_in_order(seen, dict.fromkeys(streams, 2))


async def test_a_producer_stopped_on_a_frozen_broker_leaves_nothing_running() -> None:
    """stop_producer gives up on undeliverable batches: it fails them (the relay publishes
    them again) so that aiokafka's own close, which waits for every batch, ends too."""
    with running_broker("noida") as broker:
        assert broker.process is not None
        await ensure_topic(broker.bootstrap, "frozen", partitions=1)
        before = set(_client_tasks())
        kafka = producer(broker.bootstrap)
        await kafka.start()
        await kafka.send_and_wait("frozen", b"delivered", key=b"k")
        os.killpg(broker.process.pid, signal.SIGSTOP)
        try:
            pending = [await kafka.send("frozen", b"in flight", key=b"k")]
            await asyncio.sleep(0.3)  # the sender has that batch in flight to a broker that does not answer
            pending += [await kafka.send("frozen", f"queued-{n}".encode(), key=b"k") for n in range(5)]
            await asyncio.wait_for(stop_producer(kafka, within=0.5), 10)
            for _ in range(30):
                if not set(_client_tasks()) - before:
                    break
                await asyncio.sleep(0.1)
            assert set(_client_tasks()) - before == set()
            assert all(f.done() and f.exception() is not None for f in pending)  # failed, not left hanging
        finally:
            os.killpg(broker.process.pid, signal.SIGCONT)
