"""Database restart during load, on a PRIVATE PostgreSQL (never the shared one): requests fail
cleanly with a 503 problem (no 500, no half-written order) and everything recovers by itself."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.stack import Stack
from libs.events.schema import events
from services.intake.projection import orders as intake_orders
from tests.conftest import _unavailable
from tests.distributed.conftest import make_stack
from tests.distributed.private_pg import PrivatePostgres
from tests.distributed.support import new_order, poll, post_order, problem, stack_engine, wait_consistent
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, PrivatePostgres]]:
    try:
        server = PrivatePostgres.create(free_port())
        server.start()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable("a private PostgreSQL (initdb, pg_ctl)", exc)
    stack = make_stack(tmp_path_factory.mktemp("stack-private-pg"), server.url)
    try:
        stack.up()
        yield stack, server
    finally:
        stack.down()
        server.destroy()


@pytest.fixture
async def db(private: tuple[Stack, PrivatePostgres]) -> AsyncIterator[AsyncEngine]:
    engine = stack_engine(private[0])
    yield engine
    await engine.dispose()


async def test_database_restart_during_load(private: tuple[Stack, PrivatePostgres], db: AsyncEngine) -> None:
    stack, server = private
    url = stack.url("intake")
    statuses: dict[str, list[int]] = defaultdict(list)
    unavailable: list[httpx.Response] = []
    orders: dict[str, str] = {}
    stop = asyncio.Event()

    async def partner(name: str, client: httpx.AsyncClient) -> None:
        n = 0
        while not stop.is_set():
            key = f"{name}-{n}"
            n += 1
            body, deadline = new_order(), time.monotonic() + 60
            while True:  # a partner retries a 503 with the same Idempotency-Key
                answer = await post_order(client, url, key=key, body=body)
                statuses[key].append(answer.status_code)
                if answer.status_code != 503 or time.monotonic() > deadline:
                    break
                unavailable.append(answer)
                await asyncio.sleep(0.1)
            if answer.status_code == 201:
                orders[key] = answer.json()["order_id"]

    async with httpx.AsyncClient(timeout=30) as client:
        partners = [asyncio.create_task(partner(f"p{i}", client)) for i in range(6)]
        await poll(lambda: _true(len(orders) >= 20), 60, "orders before the restart")
        await asyncio.to_thread(server.stop, "immediate")  # a crash, not a clean shutdown
        await poll(lambda: _true(len(unavailable) >= 5), 30, "requests refused while the database is down")
        ready = await client.get(f"{url}/readyz")
        assert ready.status_code == 503 and problem(ready)["checks"]["database"].startswith("unreachable")
        await asyncio.to_thread(server.start)
        recovered = len(orders)
        await poll(lambda: _true(len(orders) >= recovered + 20), 60, "orders after the restart")
        stop.set()
        await asyncio.gather(*partners)

    every = [s for codes in statuses.values() for s in codes]
    assert set(every) <= {201, 503}, sorted(set(every))  # never a 500, never anything else
    for answer in unavailable:
        assert problem(answer)["title"] == "Service unavailable" and answer.headers["retry-after"]
    assert all(codes[-1] == 201 for codes in statuses.values()), "a partner's retry never succeeded"
    assert len(set(orders.values())) == len(orders) == len(statuses)
    async with db.connect() as conn:  # exactly one order per key: no duplicate from a retried 503
        stored = (await conn.execute(select(func.count()).where(events.c.type == "order.reported"))).scalar_one()
    assert stored == len(orders)
    await wait_consistent(db, stack.topic)  # relay and projectors reconnected by themselves
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(intake_orders))).scalar_one() == len(orders)


async def _true(value: bool) -> bool:
    return value
