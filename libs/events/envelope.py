"""The one envelope every event travels in, shaped after CloudEvents 1.0.

`NewEvent` is what a service hands to the store; `StoredEvent` is what comes back,
with the store-assigned version, global position, recorded time and hash chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.events.clock import ensure_utc, iso_utc

SPEC_VERSION = "1.0"
GENESIS_HASH = "0" * 64


class NewEvent(BaseModel):
    """An event not yet stored: the service's decision, before the store numbers it."""

    model_config = ConfigDict(frozen=True)

    id: UUID = Field(default_factory=uuid4)
    type: str
    schema_version: int = 1
    occurred_at: datetime
    source: str
    actor: str
    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return ensure_utc(value)


class StoredEvent(NewEvent):
    """An event as recorded: numbered in its stream and in the global log, hash-chained."""

    stream_id: str
    version: int
    position: int
    recorded_at: datetime
    prev_hash: str
    hash: str

    @field_validator("recorded_at")
    @classmethod
    def _utc_recorded(cls, value: datetime) -> datetime:
        return ensure_utc(value)

    def to_cloudevent(self) -> dict[str, Any]:
        """Structured-mode CloudEvent (what goes on the Kafka topic)."""
        return {
            "specversion": SPEC_VERSION,
            "id": str(self.id),
            "type": self.type,
            "source": f"/services/{self.source}",
            "subject": self.stream_id,
            "time": self.occurred_at.isoformat(),
            "datacontenttype": "application/json",
            "dataschemaversion": self.schema_version,
            "streamversion": self.version,
            "position": self.position,
            "recordedtime": self.recorded_at.isoformat(),
            "actor": self.actor,
            "correlationid": str(self.correlation_id),
            "causationid": str(self.causation_id) if self.causation_id else None,
            "prevhash": self.prev_hash,
            "hash": self.hash,
            "data": self.data,
        }

    @classmethod
    def from_cloudevent(cls, ce: dict[str, Any]) -> StoredEvent:
        return cls(
            id=ce["id"],
            type=ce["type"],
            schema_version=ce["dataschemaversion"],
            occurred_at=ce["time"],
            source=ce["source"].removeprefix("/services/"),
            actor=ce["actor"],
            correlation_id=ce["correlationid"],
            causation_id=ce.get("causationid"),
            data=ce["data"],
            stream_id=ce["subject"],
            version=ce["streamversion"],
            position=ce["position"],
            recorded_at=ce["recordedtime"],
            prev_hash=ce["prevhash"],
            hash=ce["hash"],
        )


_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME  # datetimes go through str(), as in json


def canonical_bytes(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept (for hashing and storage).

    orjson does it several times faster than the stdlib, and encoding is most of an
    append's CPU; what orjson refuses (integers beyond 64 bits, non-string keys, lone
    surrogates) falls back to the stdlib. The two write the same text for strings,
    integers, UUIDs and ordinary floats (a unit test compares them); only the notation of
    floats below 1e-4 differs, and the choice between them depends only on the value, so
    every hash is still reproducible from the stored data.
    """
    try:
        return orjson.dumps(value, option=_ORJSON, default=str)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def canonical_json(value: Any) -> str:
    return canonical_bytes(value).decode()


def chain_body(event: NewEvent, stream_id: str, version: int, occurred_at: str, recorded_at: str) -> bytes:
    """The canonical JSON of everything that makes up one event's history: what the hash
    chain hashes after the predecessor's hash (times are ISO 8601 strings in UTC).

    The global position is left out on purpose: it is a property of the log, not of the
    order's history, and PostgreSQL assigns it only at insert time.
    """
    return canonical_bytes(
        {
            "actor": event.actor,
            "causation_id": event.causation_id,
            "correlation_id": event.correlation_id,
            "data": event.data,
            "id": event.id,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "schema_version": event.schema_version,
            "source": event.source,
            "stream_id": stream_id,
            "type": event.type,
            "version": version,
        }
    )


def chain_hash(
    event: NewEvent, *, stream_id: str, version: int, recorded_at: datetime, prev_hash: str
) -> str:
    """SHA-256 over the predecessor's hash and `chain_body`."""
    occurred, recorded = iso_utc(event.occurred_at), iso_utc(recorded_at)
    return hashlib.sha256(prev_hash.encode() + chain_body(event, stream_id, version, occurred, recorded)).hexdigest()


def verify_chain(events: list[StoredEvent]) -> list[str]:
    """Problems found in one stream's history (empty list = intact)."""
    problems: list[str] = []
    prev = GENESIS_HASH
    for expected_version, event in enumerate(events, start=1):
        if event.version != expected_version:
            problems.append(f"version {event.version} where {expected_version} was expected")
        if event.prev_hash != prev:
            problems.append(f"version {event.version}: prev_hash does not match predecessor")
        recomputed = chain_hash(
            event,
            stream_id=event.stream_id,
            version=event.version,
            recorded_at=event.recorded_at,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            problems.append(f"version {event.version}: content does not match its hash")
        prev = event.hash
    return problems
