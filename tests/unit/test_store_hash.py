"""The store's fast hash-chain path must give exactly `envelope.chain_hash`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from asyncpg.pgproto.pgproto import UUID as PgUUID
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events.clock import iso_utc
from libs.events.envelope import GENESIS_HASH, NewEvent, canonical_json, chain_hash
from libs.events.store.sql import _sqlite_time, prepare_batch

text = st.text(max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.dictionaries(text, json_values, max_size=5), min_size=1, max_size=4),
    actor=text,
    stream=text,
    causation=st.booleans(),
    offset=st.integers(-12, 12),
)
def test_prepare_batch_hashes_like_chain_hash(
    data: list[dict[str, Any]], actor: str, stream: str, causation: bool, offset: int
) -> None:
    zone = timezone(timedelta(hours=offset))
    events = [
        NewEvent(
            type="order.escalated",
            schema_version=2,
            occurred_at=datetime(2026, 5, 4, 8, 0, 1, 123456, tzinfo=zone),
            source="intake",
            actor=actor,
            causation_id=PgUUID(str(uuid4())) if causation else None,  # as read back by asyncpg
            data=d,
        )
        for d in data
    ]
    recorded = datetime(2026, 5, 4, 9, 30, tzinfo=zone)
    rows, batch = prepare_batch(stream, events, 3, GENESIS_HASH, recorded, as_json=True)
    prev = GENESIS_HASH
    for (event, version, prev_hash, digest, data_json, _), expected_version in zip(rows, range(4, 9), strict=False):
        assert (version, prev_hash) == (expected_version, prev)
        assert digest == chain_hash(event, stream_id=stream, version=version, recorded_at=recorded, prev_hash=prev)
        assert json.loads(data_json) == event.data
        prev = digest
    decoded = json.loads(batch)
    assert [r["hash"] for r in decoded] == [r[3] for r in rows]
    assert decoded[0]["occurred_at"] == events[0].occurred_at.astimezone(UTC).isoformat()


ordinary = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False)
    .filter(lambda f: f == 0 or abs(f) >= 1e-4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=ordinary)
def test_canonical_json_writes_what_the_stdlib_writes(value: Any) -> None:
    """orjson is only a faster way to the same canonical text (the stdlib form the first
    hash chains were written in), including for what it must hand back to the stdlib."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    assert canonical_json(value) == expected
    assert canonical_json(json.loads(expected)) == expected


@given(moment=st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_sqlite_stamp_is_sqlalchemys_format(moment: datetime) -> None:
    assert _sqlite_time(moment) == moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@given(moment=st.datetimes(timezones=st.just(UTC) | st.builds(timezone, st.timedeltas(-timedelta(hours=23),
                                                                                     timedelta(hours=23)))))
def test_iso_utc_is_isoformat_in_utc(moment: datetime) -> None:
    assert iso_utc(moment) == moment.astimezone(UTC).isoformat()
