"""Proof on the local distributed stack: real processes, real PostgreSQL, a real Kafka-protocol
broker. Crash, broker outage, concurrency and scale-out; nothing lost, nothing counted twice."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.stack import SECRET_SETTINGS, Stack
from libs.events.schema import events
from libs.events.store import store_for
from services.intake.projection import orders as intake_orders
from tests.distributed.support import (
    assert_read_models_equal_rebuild,
    assert_the_feed_delivers,
    auth,
    has_topic,
    poll,
    post_order,
    problem,
    relay_tasks,
    restart_broker,
    start,
    wait_consistent,
)

pytestmark = pytest.mark.integration
# The broker stays down for 30 s (the figure): longer than every client timeout and
# the relay's backoff. DIST_OUTAGE=5 shortens it for a quick local run.
OUTAGE = float(os.environ.get("DIST_OUTAGE", "30"))


async def count(engine: AsyncEngine, query: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def reported(engine: AsyncEngine) -> int:
    return await count(engine, select(func.count()).where(events.c.type == "order.reported"))


async def load(client: httpx.AsyncClient, url: str, orders: int, concurrency: int, escalate_every: int = 3,
               tag: str = "") -> list[httpx.Response]:
    """Partners posting `orders` orders (every n-th escalated at once, a second event on its stream)."""
    answers: list[httpx.Response] = []
    queue = iter(range(orders))

    async def partner() -> None:
        for i in queue:
            answer = await post_order(client, url, key=f"{tag}-{i}")
            answers.append(answer)
            if answer.status_code == 201 and i % escalate_every == 0:
                order_id = answer.json()["order_id"]
                escalation = await client.post(f"{url}/orders/{order_id}/escalations", json={"reason": "no reply"},
                                               headers=auth("partner"))
                answers.append(escalation)

    await asyncio.gather(*(partner() for _ in range(concurrency)))
    return answers


async def test_concurrent_conflicting_commands_one_wins(stack: Stack, db: AsyncEngine) -> None:
    """100 dispatches of one order at once, through the dispatch process: one 200, 99 409 problems."""
    async with httpx.AsyncClient(timeout=60) as client:
        outlet = {"id": "wh-01", "name": "武汉洪山网点", "provider_id": "prov-wuhan", "capacity_per_day": 50,
                  "areas": [{"city": "武汉"}],
                  "technicians": [{"id": "tech-wh-01", "name": "李师傅", "skills": ["air_conditioner"]},
                                  {"id": "tech-wh-02", "name": "王师傅", "skills": ["air_conditioner"]}]}
        created = await client.post(f"{stack.url('dispatch')}/dispatch/outlets", json=outlet, headers=auth("dispatcher"))
        assert created.status_code == 201, created.text
        order = await post_order(client, stack.url("intake"))
        assert order.status_code == 201, order.text
        order_id = order.json()["order_id"]
        url = f"{stack.url('dispatch')}/dispatch/orders/{order_id}/dispatch"
        bodies = [{"outlet_id": "wh-01", "technician_id": f"tech-wh-0{1 + i % 2}"} for i in range(100)]
        answers = await asyncio.gather(*(_until_not_503(client, url, b) for b in bodies))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1 and statuses.count(409) == 99, sorted(set(statuses))
    for answer in answers:
        if answer.status_code == 409:
            assert problem(answer)["title"] == "Conflict"
    store = store_for(db)
    history = await store.read_stream(order_id)
    assert [e.type for e in history] == ["order.reported", "order.dispatched"]
    assert await store.verify(order_id) == []


async def _until_not_503(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    """Send a command; a 503 (e.g. the shared server out of connections) is retried, as Retry-After asks."""
    deadline = time.monotonic() + 60
    while True:
        answer = await client.post(url, json=body, headers=auth("dispatcher"))
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        assert problem(answer)["title"] == "Service unavailable"
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")) * random.random())


async def test_two_projector_instances_split_partitions(stack: Stack, db: AsyncEngine) -> None:
    """A second intake projector joins the group: each gets part of the partitions; one read model results.

    Runs before the kill -9 proof: noida keeps a kill -9'd member in its group for good (it does
    not expire sessions), so a later rebalance would wait for that ghost forever.
    """
    await start(stack, "projector-intake-2")
    group = "projection.intake_orders"

    seen: list[list[list[int]]] = []

    async def split() -> bool:
        seen.append(await _assignments(stack.bootstrap, group))
        return len(seen[-1]) == 2 and all(seen[-1])

    try:
        await poll(split, 60, "two members with partitions each")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; assignments seen: {seen[:3]} ... {seen[-3:]}") from None
    assignments = await _assignments(stack.bootstrap, group)
    first, second = assignments
    assert not set(first) & set(second) and sorted(first + second) == list(range(stack.partitions))
    async with httpx.AsyncClient(timeout=60) as client:
        answers = await load(client, stack.url("intake"), 80, 10, tag="scale")
    assert {a.status_code for a in answers} == {201}
    await wait_consistent(stack, db)
    assert await count(db, select(func.count()).select_from(intake_orders)) == await reported(db)
    await assert_read_models_equal_rebuild(stack, db)


async def test_kill_9_relay_and_projector_mid_load(stack: Stack, db: AsyncEngine) -> None:
    """kill -9 the relay and the intake projector during a load; after restart nothing is lost or doubled."""
    before = await reported(db)
    async with httpx.AsyncClient(timeout=60) as client:
        running = asyncio.create_task(load(client, stack.url("intake"), 160, 12, tag="crash"))
        await poll(lambda: _at_least(db, before + 40), 60, "40 orders before the crash")
        await asyncio.to_thread(stack.kill, "relay")
        await asyncio.to_thread(stack.kill, "projector-intake")
        await poll(lambda: _at_least(db, before + 90), 60, "more orders while they are down")
        await start(stack, "relay", "projector-intake")
        answers = await running
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201][:3]
    assert await reported(db) == before + 160
    await wait_consistent(stack, db)
    orders_in_model = await count(db, select(func.count()).select_from(intake_orders))
    assert orders_in_model == await reported(db)
    await assert_the_feed_delivers(stack, db, lambda: _post(stack, 20, "after-crash"))
    await assert_read_models_equal_rebuild(stack, db)


async def _post(stack: Stack, orders: int, tag: str) -> int:
    """Post `orders` orders without escalations (one event each); returns how many were posted."""
    async with httpx.AsyncClient(timeout=60) as client:
        answers = await load(client, stack.url("intake"), orders, 4, escalate_every=orders + 1, tag=tag)
    assert {a.status_code for a in answers} == {201}
    return orders


async def _at_least(engine: AsyncEngine, n: int) -> bool:
    return await reported(engine) >= n


async def test_broker_outage_loses_nothing(stack: Stack, db: AsyncEngine) -> None:
    """Crash the broker while partners keep posting; it returns empty. Every request succeeds; the relay
    re-creates the topic and republishes, the projectors' reconcile sweep fills what the broker lost."""
    before = await reported(db)
    async with httpx.AsyncClient(timeout=60) as client:
        warm = await load(client, stack.url("intake"), 40, 8, tag="pre-outage")
        assert {a.status_code for a in warm} == {201}
        await asyncio.to_thread(stack.kill, "broker")  # a crash: it comes back empty (no topic, no offsets)
        stack.wipe_broker()
        answers: list[httpx.Response] = []
        deadline = time.monotonic() + OUTAGE
        batch = 0
        while time.monotonic() < deadline:  # partners keep posting for the whole outage
            answers += await load(client, stack.url("intake"), 20, 4, tag=f"outage-{batch}")
            batch += 1
        down = await client.get(f"{stack.url('intake')}/readyz")
        assert down.status_code == 503 and problem(down)["checks"]["broker"].startswith("unreachable")
        await restart_broker(stack)
        try:
            await poll(lambda: has_topic(stack), 60, "the relay to re-create the topic")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {await relay_tasks(stack)}") from None
        answers += await load(client, stack.url("intake"), 20, 4, tag="post-outage")
    assert answers and {a.status_code for a in answers} == {201}
    posted = sum(1 for a in [*warm, *answers] if a.request.url.path == "/orders")
    assert await reported(db) == before + posted
    await wait_consistent(stack, db, within=90)
    assert await count(db, select(func.count()).select_from(intake_orders)) == await reported(db)
    await assert_the_feed_delivers(stack, db, lambda: _post(stack, 20, "after-outage"))


async def _assignments(bootstrap: str, group: str) -> list[list[int]]:
    """Partitions of the topic assigned to each member of the consumer group (broker's view)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    members = [m for response in described for g in response.groups for m in g[5]]
    out: list[list[int]] = []
    for member in members:
        if not member[4]:  # no assignment yet: the group is rebalancing
            out.append([])
            continue
        assignment = ConsumerProtocolMemberAssignment.decode(member[4]).assignment
        out.append(sorted(p for _, partitions in assignment for p in partitions))
    return out


async def test_the_stack_runs_without_the_demo_keys(stack: Stack) -> None:
    """As compose and Kubernetes do: no published key opens anything, the stack's own secrets are
    in force (the processes refuse published ones), and `up`'s bootstrap admin is made once."""
    assert not stack.demo and set(stack.secrets()) == set(SECRET_SETTINGS)
    async with httpx.AsyncClient(timeout=30) as client:
        demo = await client.get(f"{stack.url('intake')}/orders", headers={"Authorization": "Bearer demo-operator-key"})
        assert demo.status_code == 401, demo.text
        own = await client.get(f"{stack.url('intake')}/orders", headers=auth("operator"))
        assert own.status_code == 200, own.text
        key = await stack.bootstrap_admin()
        assert key is not None and await stack.bootstrap_admin() is None
        listed = await client.get(f"{stack.url('intake')}/admin/principals", headers={"Authorization": f"Bearer {key}"})
        assert listed.status_code == 200, listed.text
        assert "admin" in {p["role"] for p in listed.json()}
