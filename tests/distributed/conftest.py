"""The local distributed stack for the proof tests: real processes, a real PostgreSQL, a noida broker.

One stack for the whole session (starting ten processes costs ~10 s on two cores), on a
PRIVATE PostgreSQL server (initdb into a temp dir, a free port): the database-restart proof
stops and restarts it, and the shared server at :5432 is never touched (nor its connection
limit shared with other suites). With CI=true an unavailable server is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.stack import Stack
from tests.conftest import _unavailable
from tests.distributed.private_pg import PrivatePostgres
from tests.distributed.support import create_stack_principals, free_port_block, stack_engine

# Short reconcile grace: after a broker loses messages the sweep fills the gap within seconds.
STACK_ENV = {"RECONCILE_GRACE": "2", "SLA_WATCH_INTERVAL": "3600", "LOG_LEVEL": "INFO"}


def make_stack(root: Path, database_url: str, replicas: int = 1) -> Stack:
    base = free_port_block()  # processes use base+1 .. base+44; the broker takes base+59
    return Stack(root=root, database_url=database_url, broker_kind="noida", broker_port=base + 59,
                 base_port=base, projector_replicas=replicas, extra_env=dict(STACK_ENV))


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres.create(free_port_block(size=1))
        server.start()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable("a private PostgreSQL (initdb, pg_ctl)", exc)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def stack(private_pg: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole topology (projector replicas defined, only the first instance of each started)."""
    running = make_stack(tmp_path_factory.mktemp("stack"), private_pg.url, replicas=2)
    try:
        running.up(only_first_replica=True)
        asyncio.run(create_stack_principals(running))
        yield running
    finally:
        running.down()


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = stack_engine(stack)
    yield engine
    await engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make test`'s two workers (pytest-xdist, --dist loadgroup) every stack proof runs on
    one worker, so the session's one stack and private PostgreSQL are started once, not twice."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("stack"))
