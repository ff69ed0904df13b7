"""The EventStore contract, run against SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from libs.events.errors import ConcurrencyConflict, DuplicateEventId, EmitterNotAllowed, InvalidEventData
from libs.events.store import store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration


async def test_append_numbers_versions_and_positions(engine: AsyncEngine) -> None:
    store = store_for(engine)
    first = await store.append("order-1", [escalated(1), escalated(2)], 0)
    second = await store.append("order-2", [escalated(3)], 0)
    assert (first.version, second.version) == (2, 1)
    assert [e.position for e in first.events] == [1, 2] and second.position == 3
    assert [e.version for e in await store.read_stream("order-1")] == [1, 2]
    assert [e.position for e in await store.read_all()] == [1, 2, 3]
    assert [e.position for e in await store.read_all(after_position=2)] == [3]
    assert await store.head_position() == 3 and await store.stream_version("order-1") == 2


async def test_wrong_expected_version_writes_nothing(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(1)], 0)
    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("order-1", [escalated(2), escalated(3)], 0)
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert len(await store.read_all()) == 1


async def test_any_version_appends_without_check(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(1)], None)
    assert (await store.append("order-1", [escalated(2)], None)).version == 2


async def test_retry_of_a_stored_batch_returns_the_stored_result(engine: AsyncEngine) -> None:
    store = store_for(engine)
    batch = [escalated(1), escalated(2)]
    first = await store.append("order-1", batch, 0)
    again = await store.append("order-1", batch, 0)
    assert again.replayed and again.events == first.events
    assert len(await store.read_all()) == 2


async def test_event_id_stored_in_another_stream_is_refused(engine: AsyncEngine) -> None:
    store = store_for(engine)
    event = escalated(1)
    await store.append("order-1", [event], 0)
    with pytest.raises(DuplicateEventId):
        await store.append("order-2", [event], 0)
    assert await store.stream_version("order-2") == 0


async def test_batch_is_atomic_when_one_event_is_invalid(engine: AsyncEngine) -> None:
    store = store_for(engine)
    bad = escalated(2).model_copy(update={"data": {"from_tier": "dealer"}})
    with pytest.raises(InvalidEventData):
        await store.append("order-1", [escalated(1), bad], 0)
    assert await store.read_all() == []


async def test_type_from_a_service_not_allowed_to_emit_it_is_refused(engine: AsyncEngine) -> None:
    store = store_for(engine)
    with pytest.raises(EmitterNotAllowed):
        await store.append("order-1", [escalated(1, source="settlement")], 0)
    assert await store.read_all() == []


async def test_concurrent_appends_to_one_stream_one_wins(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(0)], 0)
    results = await asyncio.gather(
        *(store.append("order-1", [escalated(i)], 1) for i in range(10)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, ConcurrencyConflict) for r in results if isinstance(r, Exception))
    assert await store.verify("order-1") == []


async def test_hash_chain_verifies_and_detects_tampering(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(1), escalated(2), escalated(3)], 0)
    assert await store.verify("order-1") == []
    stored = await store.read_stream("order-1")
    assert stored[1].prev_hash == stored[0].hash
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE events SET actor = 'forger' WHERE stream_id = 'order-1' AND version = 2")
        )
    problems = await store.verify("order-1")
    assert problems and "version 2" in problems[0]


async def test_read_stream_as_of_a_position_or_a_time(engine: AsyncEngine) -> None:
    clock = ManualClock(datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    store = store_for(engine, clock)
    await store.append("order-1", [escalated(1), escalated(2)], 0)  # positions 1, 2 at 08:00
    clock.advance(hours=1)
    await store.append("order-2", [escalated(3)], 0)  # position 3 at 09:00
    await store.append("order-1", [escalated(4)], 2)  # position 4 at 09:00
    assert [e.version for e in await store.read_stream("order-1", until_position=3)] == [1, 2]
    assert [e.version for e in await store.read_stream("order-1", until_position=4)] == [1, 2, 3]
    assert await store.read_stream("order-1", until_position=0) == []
    at_eight = datetime(2026, 5, 4, 16, 30, tzinfo=timezone(timedelta(hours=8)))  # 08:30 UTC
    assert [e.version for e in await store.read_stream("order-1", as_of=at_eight)] == [1, 2]
    assert [e.version for e in await store.read_stream("order-1", 2, as_of=clock())] == [2, 3]
    everything = await store.read_stream("order-1")
    assert everything == await store.read_stream("order-1", until_position=None)


async def test_timestamps_come_back_timezone_aware(engine: AsyncEngine) -> None:
    store = store_for(engine)
    await store.append("order-1", [escalated(1)], 0)
    (event,) = await store.read_stream("order-1")
    assert event.occurred_at.utcoffset() is not None and event.recorded_at.utcoffset() is not None


async def test_sqlite_pool_rolls_back_only_what_is_left_open(sqlite_engine: AsyncEngine) -> None:
    """The SQLite pool skips SQLAlchemy's unconditional rollback on return (a thread trip
    per checkout); a connection handed back mid-transaction must still come back clean,
    without holding the write lock."""
    async with sqlite_engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("BEGIN IMMEDIATE")  # driver-level, behind SQLAlchemy's back
        await raw.execute("INSERT INTO checkpoints (name, position, fingerprint, updated_at) "
                          "VALUES ('left-open', 1, '', '2026-01-01 00:00:00.000000')")
    store = store_for(sqlite_engine)
    await asyncio.wait_for(store.append("order-1", [escalated(1)], 0), 5)  # the write lock was released
    async with sqlite_engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM checkpoints WHERE name = 'left-open'"))).scalar() == 0


async def test_sqlite_append_waits_for_another_writer_without_blocking_the_loop(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Appends run inline only when the write lock is free; while another connection holds
    it they wait on a connection thread, and the event loop keeps serving."""
    store = store_for(sqlite_engine)
    await store.append("order-1", [escalated(1)], 0)  # opens the inline connection
    other = sqlite3.connect(tmp_path / "events.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    pending = asyncio.create_task(store.append("order-1", [escalated(2)], 1))
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.01)
        ticks += 1
    assert not pending.done() and ticks == 20
    other.execute("COMMIT")
    other.close()
    result = await asyncio.wait_for(pending, 10)
    assert (result.version, result.position) == (2, 2)
    assert await store.verify("order-1") == []
    await store.close()
