"""The Kafka edge: topic set-up, the CloudEvent wire format, producer/consumer factories.

Nothing here depends on idempotent producers or transactions (Tansu refuses them and
correctness must not rest on them): ordering per key comes from aiokafka sending one
batch per partition at a time; duplicates are absorbed by the consumers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from libs.events.envelope import StoredEvent, canonical_bytes

log = logging.getLogger(__name__)
CONTENT_TYPE = b"application/cloudevents+json; charset=utf-8"
# aiokafka refreshes a client's topic metadata every 5 minutes by default: partitions added to
# the topic would be written (producer) and read (consumer group) only that much later.
METADATA_REFRESH_MS = 3000


def encode(event: StoredEvent) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) for one event: structured-mode CloudEvent keyed by order id."""
    headers = [("content-type", CONTENT_TYPE)]  # structured mode: no ce_* header (SDKs would read binary)
    return event.stream_id.encode(), canonical_bytes(event.to_cloudevent()), headers


def decode(value: bytes) -> StoredEvent:
    # The stdlib, not orjson: orjson reads integers beyond 64 bits as floats, silently.
    return StoredEvent.from_cloudevent(json.loads(value))


async def ensure_topic(bootstrap: str, topic: str, partitions: int = 6, replication: int = 1) -> None:
    """Create the topic, or grow one that has fewer partitions than configured.

    A broker that allows auto-creation (Kafka's default; noida-db always) creates a topic
    with ONE partition when any client merely asks for its metadata: after a broker came
    back empty, a projector's consumer usually asks before the relay reconnects. Growing
    it back restores the partitioning (keys then map anew, which the per-stream
    checkpoints absorb); a broker that cannot grow topics keeps working on fewer.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:  # close even if start() fails or is cancelled half-way: it may have spawned a metadata task
        await admin.start()
        answer = await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=replication)])
        code = next((e[1] for e in answer.topic_errors if e[0] == topic), 0)  # aiokafka returns, not raises, these
        if code == 0:
            return
        if code != TopicAlreadyExistsError.errno:
            raise for_code(code)(f"creating topic {topic}")
        await grow_topic(admin, topic, partitions)
    finally:
        await admin.close()


async def grow_topic(admin: AIOKafkaAdminClient, topic: str, partitions: int) -> bool:
    """Grow an existing topic that has fewer partitions than configured; False if it has
    fewer and the broker would not grow it (Tansu has no CreatePartitions)."""
    found = await partition_count(admin, topic)
    if not 0 < found < partitions:
        return True
    log.warning("topic %s has %d partition(s), %d configured (auto-created by a client?); growing it",
                topic, found, partitions)
    try:
        await admin.create_partitions({topic: NewPartitions(total_count=partitions)})
    except KafkaError as exc:
        log.error("topic %s: could not grow to %d partitions: %s", topic, partitions, exc)
        return False
    return True


async def partition_count(admin: AIOKafkaAdminClient, topic: str) -> int:
    """How many partitions the broker says the topic has (0 if it does not know it)."""
    described = await admin.describe_topics([topic])
    return sum(len(t["partitions"]) for t in described if t.get("topic") == topic and not t.get("error_code"))


async def topic_exists(bootstrap: str, topic: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        return topic in await admin.list_topics()
    finally:
        await admin.close()


def producer(bootstrap: str, **kwargs: Any) -> AIOKafkaProducer:
    kwargs.setdefault("acks", "all")
    kwargs.setdefault("linger_ms", 5)
    kwargs.setdefault("request_timeout_ms", 10_000)
    kwargs.setdefault("max_batch_size", 256 * 1024)
    kwargs.setdefault("metadata_max_age_ms", METADATA_REFRESH_MS)
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **kwargs)


async def stop_producer(kafka: AIOKafkaProducer, within: float = 5.0) -> None:
    """Stop a producer, dropping what it could not deliver within `within` seconds.

    aiokafka's stop() waits until every pending batch is delivered: forever if the broker
    accepts connections but never answers (a frozen broker, a half-open connection). The
    relay publishes undelivered batches again, so dropping them loses nothing. aiokafka has
    no public abort, so this uses its internals: cancel the sender task (which still waits
    for its in-flight requests, up to request_timeout_ms: closing the connections instead
    makes it retry them), and once stopped, fail the batches left in the accumulator, or
    the close() task that stop() started waits on them for good.
    """
    stopping = asyncio.ensure_future(kafka.stop())
    try:
        await asyncio.wait({stopping}, timeout=within)
    finally:  # also when our caller gives up on us first: the abort must still happen
        sender = getattr(getattr(kafka, "_sender", None), "sender_task", None)
        if not stopping.done() and sender is not None:
            log.warning("producer could not deliver its pending batches in %.1fs; dropping them", within)
            sender.cancel()
            accumulator = getattr(kafka, "_message_accumulator", None)
            if accumulator is not None:
                dropped = KafkaError("the producer was stopped before this batch was delivered")
                stopping.add_done_callback(lambda _: accumulator.fail_all(dropped))
    await stopping


def forget_outcome(task: asyncio.Future[Any]) -> None:
    """Consume an abandoned task's outcome (no 'exception was never retrieved' noise)."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("abandoned step ended with %r", task.exception())


def consumer(bootstrap: str, topic: str | None, group_id: str, **kwargs: Any) -> AIOKafkaConsumer:
    """A consumer of `topic` (None: the caller subscribes, e.g. with a rebalance listener)."""
    kwargs.setdefault("auto_offset_reset", "earliest")
    kwargs.setdefault("enable_auto_commit", False)
    kwargs.setdefault("max_poll_records", 2000)
    topics = () if topic is None else (topic,)
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group_id, **kwargs)
