"""The relay's Kafka messages parse with the CloudEvents Python SDK's Kafka binding (both its
auto-detecting `from_kafka` and the v1 `from_structured`): structured mode, so no ce_* header
(one makes the SDK read the message as binary mode, and fail)."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudevents.core.bindings import kafka as core_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1 import kafka as v1_kafka

from libs.events.envelope import StoredEvent
from libs.events.kafka import decode, encode
from tests.factories import escalated


def _stored() -> StoredEvent:
    event = escalated(1)
    at = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    return StoredEvent(**event.model_dump(), stream_id="order-1", version=1, position=42, recorded_at=at,
                       prev_hash="0" * 64, hash="f" * 64)


def test_a_relay_message_parses_with_the_sdk_kafka_bindings() -> None:
    stored = _stored()
    key, value, headers = encode(stored)
    assert not [name for name, _ in headers if name.startswith("ce_")]
    core = core_kafka.from_kafka(core_kafka.KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())
    v1 = v1_kafka.from_structured(v1_kafka.KafkaMessage(headers=dict(headers), key=key, value=value))
    assert (core.get_type(), core.get_id(), core.get_specversion()) == (stored.type, str(stored.id), "1.0")
    assert (v1["type"], v1["id"], v1["specversion"]) == (stored.type, str(stored.id), "1.0")
    assert decode(value) == stored
