"""Helpers for the proof tests on the local distributed stack (deploy/local/stack.py)."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import ALL
from app.ops import service_projections
from deploy.local.stack import SERVICES, Stack
from libs.events.cli import projection_status, relay_status
from libs.events.clock import system_clock
from libs.events.db import create_engine
from libs.events.kafka import topic_exists
from libs.events.projection import Projector, dump_read_model
from libs.events.store import store_for
from libs.web.auth import DEMO_PRINCIPALS, DEMO_RATE, create_principal
from tests.intake.support import order_body

_counter = itertools.count()
# The stack runs as a deployment does, without the demo's published keys: the proofs use
# principals of their own (the demo's ids and roles, other keys), created through the same
# function as the admin API. The admin is left out: the bootstrap proof makes it.
STACK_PRINCIPALS = [(key.replace("demo-", "stack-"), id_, role, name, party)
                    for key, id_, role, name, party in DEMO_PRINCIPALS if role != "admin"]
STACK_KEYS = {key.removeprefix("stack-").removesuffix("-key"): key for key, *_ in STACK_PRINCIPALS}


def auth(who: str) -> dict[str, str]:
    """Authorization header of one of the stack's principals ("partner", "dispatcher", ...)."""
    return {"Authorization": f"Bearer {STACK_KEYS[who]}"}


async def create_stack_principals(stack: Stack) -> None:
    engine = create_engine(stack.database_url)
    try:
        for key, id_, role, name, party in STACK_PRINCIPALS:
            await create_principal(engine, system_clock, id=id_, role=role, name=name, party=party, key=key,
                                   rate_limit=DEMO_RATE)
    finally:
        await engine.dispose()


def free_port_block(size: int = 60) -> int:
    """A base port with `size` free ports above it (the stack numbers its processes from it).

    Below the kernel's ephemeral range (32768+), so no outgoing connection of this busy
    machine can take one of them between this check and the bind.
    """
    for _ in range(200):
        base = random.randrange(20_000, 32_000, 100)
        ports = range(base, base + size)
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("no block of free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


PROJECTIONS = {p.name for name in SERVICES for p in ALL[name].projections}  # every read model the stack runs


async def poll(condition: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.2) -> None:
    """Wait until `condition()` holds (a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(every)


async def wait_consistent(stack: Stack, engine: AsyncEngine, within: float = 90.0) -> None:
    """The relay has published the head and every projection has applied every stream's last version.

    If not in time, the failure shows where they stand and what the relay's tasks wait on
    (SIGUSR1 makes a process log its asyncio stacks): a CI log is all there is afterwards.
    """
    state: dict[str, Any] = {}

    async def done() -> bool:
        state["relay"] = relay = await relay_status(engine, stack.topic)
        state["projections"] = rows = await projection_status(engine)
        names = {r["projection"] for r in rows}
        return relay["lag_events"] == 0 and names == PROJECTIONS and all(r["streams_behind"] == 0 for r in rows)

    try:
        await poll(done, within, "relay and every projection to reach the head")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; status {state}; {await relay_tasks(stack)}") from None


async def relay_tasks(stack: Stack) -> str:
    """What the relay process is doing: SIGUSR2 makes it write its threads' stacks, SIGUSR1
    log every asyncio task's stack (a CI log is all there is after a failure); the tail of its log."""
    stack.signal("relay", signal.SIGUSR2)  # thread stacks, even if its event loop is blocked
    stack.signal("relay", signal.SIGUSR1)  # asyncio tasks
    await asyncio.sleep(1.0)
    tail = stack.log("relay").read_text(errors="replace").splitlines()[-150:]
    return "relay log tail:\n" + "\n".join(tail)


async def has_topic(stack: Stack, answering_is_enough: bool = False) -> bool:
    """Whether the broker lists the stack's topic (or just answers), asked with a bound."""
    try:
        return await asyncio.wait_for(topic_exists(stack.bootstrap, stack.topic), 3.0) or answering_is_enough
    except Exception:
        return False


async def restart_broker(stack: Stack, attempts: int = 3, within: float = 20.0) -> None:
    """Start the broker and wait until it answers Kafka requests; one that does not within
    `within` seconds is killed and started again, as an orchestrator would (a noida-db
    restarted on a wiped data dir once printed its banner and then accepted no connection)."""
    for attempt in range(1, attempts + 1):
        await asyncio.to_thread(stack.start, "broker")
        try:
            await poll(lambda: has_topic(stack, answering_is_enough=True), within, "the broker to answer")
            return
        except AssertionError:
            if attempt == attempts:
                raise
            print(f"broker did not answer within {within:.0f}s (start {attempt}); restarting it")
            await asyncio.to_thread(stack.kill, "broker")


async def assert_read_models_equal_rebuild(stack: Stack, engine: AsyncEngine) -> None:
    """Stop the projectors, rebuild every read model from the store (nothing may change), restart them."""
    projectors = [n for n in stack.processes() if n.startswith("projector-")]
    running = [n for n in projectors if stack.pid(n) is not None]
    await asyncio.to_thread(stack.stop_many, projectors)
    store = store_for(engine)
    for projection in service_projections().values():
        live = await dump_read_model(engine, projection.metadata)
        await Projector(engine, projection, store).rebuild()
        rebuilt = await dump_read_model(engine, projection.metadata)
        for table in live:
            assert live[table] == rebuilt[table], f"{projection.name}.{table} differs from a rebuild"
    # The same members again (the next proof needs them): static members (KAFKA_INSTANCE_ID) do not
    # leave the group when stopped, so one not restarted would keep its partitions until the broker
    # expires its session (noida never does).
    await start(stack, *sorted({*running, *(f"projector-{service}" for service in SERVICES)}))


async def applied_by_path(stack: Stack, projector: str) -> dict[str, float]:
    """What a projector process applied, per path ({"feed": n, "sweep": m}), from its /metrics."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{stack.url(projector)}/metrics")).text
    out = {"feed": 0.0, "sweep": 0.0}
    for line in text.splitlines():
        if line.startswith("projection_events_applied_total{"):
            labels, value = line.rsplit(" ", 1)
            path = labels.split('path="', 1)[1].split('"', 1)[0]
            out[path] += float(value)
    return out


async def assert_the_feed_delivers(stack: Stack, engine: AsyncEngine, post: Callable[[], Awaitable[int]]) -> None:
    """After a recovery, new events reach the intake read model through Kafka, not the sweep:
    `post()` posts some orders (returns how many); the feed counters of the intake projection's
    group members must show the feed applying new ones (with two members on noida after a
    static member's rejoin, part of them still reach the model only through the sweep)."""
    members = [n for n in stack.processes()
               if n.startswith("projector-intake") and stack.pid(n) is not None]  # the group's members
    before = await _applied_by_members(stack, members)
    posted = await post()
    await wait_consistent(stack, engine)
    after = await _applied_by_members(stack, members)
    feed, sweep = after["feed"] - before["feed"], after["sweep"] - before["sweep"]
    print(f"after recovery, of {posted} new events the feed applied {feed:.0f}, the sweep {sweep:.0f}")
    assert feed + sweep >= posted and feed > 0, (
        f"of {posted} new events the feed applied {feed:.0f}, the sweep {sweep:.0f}")


async def _applied_by_members(stack: Stack, members: list[str]) -> dict[str, float]:
    counts = [await applied_by_path(stack, name) for name in members]
    return {path: sum(c[path] for c in counts) for path in ("feed", "sweep")}


async def start(stack: Stack, *names: str) -> None:
    for name in names:
        stack.start(name)
    await asyncio.to_thread(stack.wait_ready, names, 60)


def stack_engine(stack: Stack) -> AsyncEngine:
    """The test's own view of the stack's database; it pings at checkout because the
    observer must not be the one to trip over a restarted server."""
    return create_engine(stack.database_url, pool_pre_ping=True)


def new_order() -> dict[str, Any]:
    """The published partner body with a unique partner reference."""
    return order_body(partner_ref=f"LOAD-{next(_counter)}-{random.randrange(10**9)}")


async def post_order(client: httpx.AsyncClient, url: str, key: str | None = None, who: str = "partner",
                     retry_503_for: float = 0.0, body: dict[str, Any] | None = None) -> httpx.Response:
    """POST /orders with a unique partner reference (and an Idempotency-Key when given).

    With `retry_503_for` a 503 (and a refused connection) is retried with the same key
    until that many seconds have passed, as a partner system would.
    """
    body = body or new_order()
    headers = {**auth(who), **({"Idempotency-Key": key} if key else {})}
    deadline = time.monotonic() + retry_503_for
    while True:
        try:
            response = await client.post(f"{url}/orders", json=body, headers=headers)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
            continue
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body
