"""Fixtures with real servers. With CI=true a missing server is a failure, never a skip."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import Broker, create_database, drop_database, running_broker
from libs.events.db import create_engine, migrate

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not available: {exc}"
    if IN_CI:
        pytest.fail(message + " (CI=true: integration tests may not skip)")
    pytest.skip(message + " — start it or set DATABASE_URL / KAFKA_BOOTSTRAP")


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the whole session (or TEST_DATABASE_URL / DATABASE_URL when set)."""
    given = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if given.startswith(("postgresql", "postgres:")):
        yield given  # a database you chose: its tables are truncated between tests
        return
    try:
        url = _in_thread(create_database())
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    yield url
    _in_thread(drop_database(url))


_migrated: set[str] = set()


async def _fresh_pg(url: str) -> AsyncEngine:
    engine = create_engine(url)
    if url not in _migrated:
        await migrate(engine)
        _migrated.add(url)
    async with engine.begin() as conn:
        names = (
            await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            )
        ).scalars().all()
        if names:
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY"))
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty store database on each backend."""
    if request.param == "postgres":
        made = await _fresh_pg(request.getfixturevalue("pg_url"))
    else:
        made = create_engine(f"sqlite:///{tmp_path / 'events.db'}")
        await migrate(made)
    yield made
    await made.dispose()


@pytest.fixture
async def postgres(pg_url: str) -> AsyncIterator[AsyncEngine]:
    made = await _fresh_pg(pg_url)
    yield made
    await made.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite:///{tmp_path / 'events.db'}")
    await migrate(made)
    yield made
    await made.dispose()


def _broker(kind: str) -> Iterator[Broker]:
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP"):
        yield Broker("external", bootstrap, None, int(bootstrap.rsplit(":", 1)[1]))
        return
    try:
        with running_broker(kind) as broker:
            yield broker
    except (OSError, TimeoutError, ImportError) as exc:
        _unavailable(f"Kafka-protocol broker {kind}", exc)


@pytest.fixture(scope="session")
def tansu() -> Iterator[Broker]:
    yield from _broker("tansu")


@pytest.fixture(scope="session")
def noida() -> Iterator[Broker]:
    yield from _broker("noida")


@pytest.fixture(params=["tansu", "noida"])
def broker(request: pytest.FixtureRequest) -> Broker:
    """Each Kafka test runs against both brokers (a cheap check we rely on Kafka, not a quirk)."""
    found: Broker = request.getfixturevalue(request.param)
    return found


@pytest.fixture(params=["sqlite", "postgres"])
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """All four services in-process on a fresh database of each backend, clock at START."""
    from tests.support.app import running_api

    async with running_api(await api_database(request, tmp_path)) as running:
        yield running


async def api_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the backend named by the fixture's param, for an in-process API."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        await (await _fresh_pg(url)).dispose()
        return url
    return f"sqlite:///{tmp_path / 'api.db'}"


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[Any]:
    """The same on SQLite only (for tests whose subject is not the backend)."""
    from tests.support.app import running_api

    async with running_api(f"sqlite:///{tmp_path / 'api.db'}") as running:
        yield running
