"""Connection liveness on PostgreSQL without a ping at every checkout (libs/events/db.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import db
from libs.events.db import create_engine
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


async def test_an_idle_connection_that_died_is_replaced_before_use(
    pg_url: str, postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        dead = await _backend(engine)
        await _kill(pg_url, dead)
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has sat idle long enough
        assert await _backend(engine) != dead  # pinged at checkout, replaced, no error
    finally:
        await engine.dispose()


async def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_its_use_once(
    pg_url: str, postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
        dead = await _backend(engine)
        await _kill(pg_url, dead)
        with pytest.raises(DBAPIError):
            await _backend(engine)
        assert await _backend(engine) != dead  # SQLAlchemy invalidated the pool: fresh from now on
    finally:
        await engine.dispose()


async def test_an_append_survives_its_connection_dying_under_it(
    pg_url: str, postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store retries once on a fresh pool; a retry of an append that did commit answers
    what was stored (event ids are unique), so nothing is written twice."""
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        store = store_for(engine)
        await store.append("order-1", [escalated(1)], 0)
        await _kill(pg_url, await _backend(engine))
        result = await store.append("order-1", [escalated(2)], 1)
        assert (result.version, len(await store.read_stream("order-1"))) == (2, 2)
    finally:
        await engine.dispose()
