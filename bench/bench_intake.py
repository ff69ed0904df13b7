"""POST /orders throughput and latency against a bare FastAPI + asyncpg INSERT, same run, same client.

Subject: the intake service on PostgreSQL as it runs in production (auth lookup, strict
validation, warranty decision, event append with the commit-order lock, the
Idempotency-Key answer stored; the intake_orders projection tails the store in the same
process). Baseline: a FastAPI app whose POST /orders takes the same JSON and does one
INSERT with asyncpg. Both are driven in-process (httpx ASGITransport) by the same
client at the same fixed concurrency, interleaved, best of a few rounds.

A third figure, the event store's own append of the same event at the same concurrency
(no HTTP, no auth), shows how much of the gap is the store's serialised, hash-chained
append (every append holds the commit-order lock for a head read, an insert and the
commit) and how much is intake's own work.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.main import create_app
from bench.report import Report
from bench.servers import create_database, drop_database
from libs.events import catalog
from libs.events.settings import Settings
from libs.web.runtime import Runtime
from services.intake.domain import OrderState, PolicyBook, ReportOrder, decide
from services.intake.handlers import append

CONCURRENCY = 16
REQUESTS = 500  # per round and subject
ROUNDS = 3
TARGET = 0.6
BODY: dict[str, Any] = {
    "partner_ref": "JD-2026-000123",
    "customer": {"name": "张伟", "phone": "13800138000", "address": "洪山区珞喻路1号"},
    "product": {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW",
                "serial": "GL2503A0001", "factory_date": "2025-03-01", "purchase_date": "2025-06-18"},
    "location": {"province": "湖北", "city": "武汉", "county": "洪山区", "provincial_capital": True},
    "working_conditions": "卧室, 每天使用约8小时",
    "fault": "不制冷",
}
RAW = json.dumps(BODY, ensure_ascii=False).encode()
REF = BODY["partner_ref"].encode()
REFS = itertools.count()  # across rounds and subjects: every order of the run its own reference


def bare_app(pool: asyncpg.Pool) -> FastAPI:
    """The baseline: parse the JSON, one INSERT, answer 201."""
    app = FastAPI()

    @app.post("/orders", status_code=201)
    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        order_id = uuid.uuid4()
        await pool.execute("INSERT INTO bare_orders (id, body) VALUES ($1, $2)", order_id, json.dumps(body))
        return JSONResponse({"order_id": str(order_id)}, status_code=201)

    return app


def post(client: httpx.AsyncClient, headers: Callable[[int], dict[str, str]]) -> Callable[[int], Awaitable[None]]:
    async def one(n: int) -> None:
        raw = RAW.replace(REF, b"JD-%012d" % next(REFS))  # one reference per order (a repeated one is a 409)
        response = await client.post("/orders", content=raw, headers=headers(n))
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code}: {response.text}")

    return one


def append_only(runtime: Runtime) -> Callable[[int], Awaitable[None]]:
    """The store's part alone: append the same order.reported event to a new stream."""
    decided = decide(OrderState(), ReportOrder(
        channel="partner", external_ref="JD-1", partner_id="jd-retail", customer=catalog.Customer(**BODY["customer"]),
        product=catalog.Product(**BODY["product"]), location=catalog.Location(**BODY["location"]),
        working_conditions=BODY["working_conditions"], fault=BODY["fault"], today=date(2026, 5, 4),
        policies=PolicyBook()))

    async def one(n: int) -> None:
        await append(runtime, str(uuid.uuid4()), decided, 0, "partner:jd-retail")

    return one


async def drive(step: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    """REQUESTS steps at CONCURRENCY; returns (steps per second, latencies in ms)."""
    latencies: list[float] = []
    counter = iter(range(REQUESTS))

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            await step(n)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return REQUESTS / (time.perf_counter() - started), latencies


@asynccontextmanager
async def database() -> AsyncIterator[str]:
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


async def run(report: Report) -> None:
    async with database() as url:
        # The API process as deployed in the distributed mode: projections run in their own processes.
        app = create_app(Settings(database_url=url, services="intake", demo=True, log_level="WARNING", run_projections=False))
        runtime: Runtime = app.state.runtime
        await runtime.start()
        pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
        assert pool is not None
        await pool.execute("CREATE TABLE bare_orders (id uuid PRIMARY KEY, body jsonb NOT NULL)")
        ours = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app(pool)), base_url="http://bench")
        auth = {"Authorization": "Bearer demo-partner-key", "Content-Type": "application/json"}
        json_only = {"Content-Type": "application/json"}
        run_id = uuid.uuid4().hex[:8]
        subjects: dict[str, Callable[[int], Awaitable[None]]] = {
            "bare": post(bare, lambda n: json_only),
            "store": append_only(runtime),
            "intake": post(ours, lambda n: auth),
            "intake+key": post(ours, lambda n: {**auth, "Idempotency-Key": f"{run_id}-{n}-{time.perf_counter_ns()}"}),
        }
        best: dict[str, tuple[float, list[float]]] = {}
        try:
            await drive(subjects["intake"])  # warm-up: connections, caches
            await drive(subjects["bare"])
            for _ in range(ROUNDS):
                for name, step in subjects.items():
                    rps, latencies = await drive(step)
                    if rps > best.get(name, (0.0, []))[0]:
                        best[name] = (rps, latencies)
        finally:
            await ours.aclose()
            await bare.aclose()
            await pool.close()
            await runtime.stop()
    baseline = best["bare"][0]
    report.line(f"{REQUESTS} requests per round at concurrency {CONCURRENCY}, best of {ROUNDS} rounds, PostgreSQL")
    for name, label in (("bare", "bare FastAPI + one asyncpg INSERT (baseline)"),
                        ("store", "reference: store.append alone, no HTTP"),
                        ("intake", "POST /orders"), ("intake+key", "POST /orders with Idempotency-Key")):
        rps, latencies = best[name]
        cuts = statistics.quantiles(latencies, n=100)
        report.figure(f"{label}: requests/s", rps, "req/s", baseline=None if name == "bare" else baseline,
                      target=TARGET if name.startswith("intake") else None)
        report.figure(f"{label}: p50 latency", cuts[49], "ms")
        report.figure(f"{label}: p99 latency", cuts[98], "ms")
