"""Connection liveness on PostgreSQL without a ping at every checkout (libs/events/db.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import db
from libs.events.db import create_engine, migrate
from libs.events.store import store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _kill(url: str, pid: int) -> None:
    killer = create_engine(url)
    async with killer.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()


@pytest.fixture
async def one_connection(pg_url: str, postgres: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A migrated PostgreSQL database behind a pool of exactly one connection."""
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_an_idle_connection_that_died_is_replaced_before_use(
    pg_url: str, one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = await _backend(one_connection)
    await _kill(pg_url, dead)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has sat idle long enough
    assert await _backend(one_connection) != dead  # pinged at checkout, replaced, no error


async def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_ping(
    pg_url: str, one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI failure this covers: the database restarted a second after a service started,
    and the service's first request took a pooled connection that was too fresh to ping."""
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    pings: list[object] = []
    monkeypatch.setattr(one_connection.dialect, "do_ping", pings.append)
    dead = await _backend(one_connection)
    await _kill(pg_url, dead)
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle connection
    assert await _backend(one_connection) != dead
    assert pings == []  # known dead from its state, not by a round trip


async def test_a_connection_that_dies_in_use_fails_that_use_once(
    pg_url: str, one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    async with one_connection.connect() as conn:
        dead = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await _kill(pg_url, dead)
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT 1"))
    assert await _backend(one_connection) != dead  # SQLAlchemy invalidated the pool: fresh from now on


async def test_an_append_survives_its_connection_dying_under_it(
    pg_url: str, one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store retries once on a fresh pool; a retry of an append that did commit answers
    what was stored (event ids are unique), so nothing is written twice.

    The append follows the kill by 0-3 ms: how far the server's goodbye got decides how the
    dead connection fails (closed, or asyncpg's protocol parked in its error state by the
    FATAL notice arriving while idle, which about half of these hit).
    """
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    store = store_for(one_connection)
    delays = random.Random(7)
    for n in range(1, 31):
        await store.append(f"order-{n}", [escalated(1)], 0)
        await _kill(pg_url, await _backend(one_connection))
        await asyncio.sleep(delays.uniform(0, 0.003))
        result = await store.append(f"order-{n}", [escalated(2)], 1)
        assert (result.version, len(await store.read_stream(f"order-{n}"))) == (2, 2)
        assert await store.verify(f"order-{n}") == []


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
async def test_appends_beyond_the_pool_size_return_their_connections_cleanly(
    backend: str, pg_url: str, postgres: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Overflow connections are closed when handed back, which is I/O on the async drivers."""
    url = pg_url if backend == "postgres" else f"sqlite:///{tmp_path / 'events.db'}"
    engine = create_engine(url, pool_size=1, max_overflow=6)
    try:
        if backend == "sqlite":
            await migrate(engine)
        store = store_for(engine)
        store._inline_file = None  # SQLite: take the pooled path, as when the write lock is busy
        with caplog.at_level(logging.WARNING):
            results = await asyncio.gather(*(store.append(f"order-{n}", [escalated(n)], 0) for n in range(12)))
        assert sorted(r.position for r in results) == list(range(1, 13))
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy")], caplog.text
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
