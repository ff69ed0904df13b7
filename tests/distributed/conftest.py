"""The local distributed stack for the proof tests: real processes, PostgreSQL, a noida broker.

One stack per module (starting ten processes costs ~10 s on two cores). With CI=true an
unavailable PostgreSQL or broker is a failure, never a skip (see tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.stack import Stack
from tests.conftest import _in_thread, _unavailable
from tests.distributed.support import free_port_block, stack_engine
from tests.support.servers import create_database, drop_database, free_port

# Short reconcile grace: after a broker loses messages the sweep fills the gap within seconds.
STACK_ENV = {"RECONCILE_GRACE": "2", "SLA_WATCH_INTERVAL": "3600", "LOG_LEVEL": "INFO"}


def make_stack(root: Path, database_url: str, replicas: int = 1) -> Stack:
    return Stack(root=root, database_url=database_url, broker_kind="noida", broker_port=free_port(),
                 base_port=free_port_block(), projector_replicas=replicas, extra_env=dict(STACK_ENV))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole topology (projector replicas defined but only the first instance started)."""
    try:
        url = _in_thread(create_database())
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    running = make_stack(tmp_path_factory.mktemp("stack"), url, replicas=2)
    try:
        running.up(only_first_replica=True)
        yield running
    finally:
        running.down()
        _in_thread(drop_database(url))


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = stack_engine(stack)
    yield engine
    await engine.dispose()
