"""Full order lifecycle over HTTP (report → dispatch → arrive → repair → settle → review) with many
concurrent partners: embedded (one process, SQLite) and distributed (local stack: four service
processes, relay, projectors, PostgreSQL, a Kafka-protocol broker) side by side.

Each mode runs for the same wall time; figures: sustained orders/s (complete lifecycles), p50/p99
latency per endpoint, projection lag under load (events and streams behind, sampled twice a
second from the store) and the time to drain the lag once the load stops.
Knobs: BENCH_LIFECYCLE_SECONDS (default 20), BENCH_LIFECYCLE_PARTNERS (default 24).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.report import Report
from deploy.local.stack import ROOT, Stack, ensure_database, free_port
from libs.events.cli import projection_status
from libs.events.db import create_engine

SECONDS = float(os.environ.get("BENCH_LIFECYCLE_SECONDS", "20"))
PARTNERS = int(os.environ.get("BENCH_LIFECYCLE_PARTNERS", "24"))
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KEYS = {"partner": "demo-partner-key", "dispatcher": "demo-dispatcher-key", "technician": "demo-technician-key",
        "finance": "demo-finance-key", "supervisor": "demo-supervisor-key"}
STEPS = ["report", "dispatch", "arrive", "repair", "settle", "review"]

ORDER = {
    "customer": {"name": "张伟", "phone": "13800138000", "address": "洪山区珞喻路1号"},
    "product": {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW", "serial": "GL2503A0001",
                "factory_date": "2025-03-01", "purchase_date": "2025-06-18"},
    "location": {"province": "湖北", "city": "武汉", "county": "洪山区", "provincial_capital": True},
    "fault": "不制冷",
}
OUTLET = {"id": "bench-wh-01", "name": "武汉洪山网点", "provider_id": "prov-wuhan", "capacity_per_day": 10_000,
          "areas": [{"city": "武汉"}], "technicians": [{"id": "tech-wh-01", "name": "李师傅", "skills": ["air_conditioner"]}]}
STANDARD = {"maker": "gree", "provider_id": "prov-wuhan", "effective_from": "2026-01-01", "kind": "per_order",
            "travel": {"flat_fen": 3000}, "labour_fen_per_hour": {"*": 6000}}
REPAIR = {"diagnosis": "冷媒不足", "solution": "补充冷媒", "labour_hours": "1.5",
          "parts": [{"part_no": "P-100", "name": "阀门", "quantity": 1, "unit_cost_fen": 4500, "original": True}]}
REVIEW = {"channel": "call_back", "timeliness": "A", "quality": "A", "attitude": "B", "overall": 5}


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[who]}"}


@dataclass
class Target:
    """Where each service answers in one mode, and the database the projections live in."""

    urls: dict[str, str]
    database_url: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    completed: int = 0
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lag_events: list[int] = field(default_factory=list)
    lag_streams: list[int] = field(default_factory=list)


class StepFailed(Exception):
    pass


async def _call(client: httpx.AsyncClient, results: Results, step: str, url: str, body: dict[str, Any],
                who: str, expect: int) -> dict[str, Any]:
    started = time.perf_counter()
    response = await client.post(url, json=body, headers=auth(who))
    results.latencies[step].append(time.perf_counter() - started)
    if response.status_code != expect:
        results.failures[f"{step} {response.status_code}"] += 1
        raise StepFailed(f"{step}: {response.status_code} {response.text[:200]}")
    answer: dict[str, Any] = response.json()
    return answer


async def lifecycle(client: httpx.AsyncClient, target: Target, results: Results) -> None:
    u = target.urls
    order = await _call(client, results, "report", f"{u['intake']}/orders",
                        {**ORDER, "partner_ref": f"B-{uuid.uuid4().hex[:12]}"}, "partner", 201)
    oid = order["order_id"]
    await _call(client, results, "dispatch", f"{u['dispatch']}/dispatch/orders/{oid}/dispatch",
                {"outlet_id": OUTLET["id"], "technician_id": "tech-wh-01"}, "dispatcher", 200)
    await _call(client, results, "arrive", f"{u['dispatch']}/dispatch/orders/{oid}/arrive", {}, "technician", 200)
    await _call(client, results, "repair", f"{u['dispatch']}/dispatch/orders/{oid}/repair", REPAIR, "technician", 200)
    await _call(client, results, "settle", f"{u['settlement']}/settlements/{oid}", {"distance_km": 5}, "finance", 201)
    await _call(client, results, "review", f"{u['quality']}/orders/{oid}/reviews", REVIEW, "supervisor", 201)
    results.completed += 1


async def seed(client: httpx.AsyncClient, target: Target) -> None:
    outlet = await client.post(f"{target.urls['dispatch']}/dispatch/outlets", json=OUTLET, headers=auth("dispatcher"))
    standard = await client.post(f"{target.urls['settlement']}/settlement/standards", json=STANDARD,
                                 headers=auth("finance"))
    for response in (outlet, standard):
        if response.status_code not in (200, 201):
            raise RuntimeError(f"seeding failed: {response.status_code} {response.text[:300]}")


async def drive(target: Target, seconds: float, partners: int) -> tuple[Results, float, float]:
    """Run the load; returns (results, elapsed seconds of load, seconds to drain the projection lag)."""
    results = Results()
    engine = create_engine(target.database_url)
    limits = httpx.Limits(max_connections=partners * 2, max_keepalive_connections=partners * 2)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await seed(client, target)
            stop = time.monotonic() + seconds

            async def partner() -> None:
                while time.monotonic() < stop:
                    with suppress(StepFailed):
                        await lifecycle(client, target, results)

            async def sample() -> None:
                while time.monotonic() < stop:
                    with suppress(Exception):
                        rows = await projection_status(engine)
                        results.lag_events.append(max((r["lag_events"] for r in rows), default=0))
                        results.lag_streams.append(max((r["streams_behind"] for r in rows), default=0))
                    await asyncio.sleep(0.5)

            started = time.monotonic()
            await asyncio.gather(sample(), *(partner() for _ in range(partners)))
            elapsed = time.monotonic() - started
        drained_at = time.monotonic()
        while any(r["streams_behind"] for r in await projection_status(engine)):
            if time.monotonic() - drained_at > 120:
                break
            await asyncio.sleep(0.1)
        return results, elapsed, time.monotonic() - drained_at
    finally:
        await engine.dispose()


@asynccontextmanager
async def embedded() -> AsyncIterator[Target]:
    """`python -m app`: all four services in one process on SQLite, projections tailing the store."""
    with tempfile.TemporaryDirectory(prefix="bench-embedded-") as tmp:
        port = free_port()
        url = f"sqlite:///{Path(tmp) / 'aftersales.db'}"
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1", "DEMO": "true",
               "SLA_WATCH_INTERVAL": "3600", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        env.pop("KAFKA_BOOTSTRAP", None)
        log = (Path(tmp) / "app.log").open("wb")
        child = await asyncio.to_thread(_spawn, env, log)
        try:
            await _wait_healthy(f"http://127.0.0.1:{port}", child)
            base = f"http://127.0.0.1:{port}"
            yield Target({s: base for s in ("intake", "dispatch", "settlement", "quality")}, url)
        finally:
            child.terminate()
            with suppress(subprocess.TimeoutExpired):
                child.wait(15)
            if child.poll() is None:
                child.kill()
                child.wait()
            log.close()


@asynccontextmanager
async def distributed() -> AsyncIterator[Target]:
    """The local stack (deploy/local/stack.py) on a fresh database of the machine's PostgreSQL."""
    name = f"aftersales_bench_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    await ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        base = _port_block()  # below the ephemeral range; the broker takes base+59
        stack = Stack(root=Path(tmp), database_url=url, broker_port=base + 59, base_port=base, demo=True,  # its keys
                      extra_env={"SLA_WATCH_INTERVAL": "3600", "LOG_LEVEL": "WARNING"})
        try:
            await asyncio.to_thread(stack.up)
            yield Target({s: stack.url(s) for s in ("intake", "dispatch", "settlement", "quality")}, url)
        finally:
            await asyncio.to_thread(stack.down)
            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()


def _spawn(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _port_block() -> int:
    import socket

    for base in range(21_000, 32_000, 100):
        ok = True
        for port in range(base, base + 60):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port block")


async def _wait_healthy(base: str, child: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise RuntimeError("the embedded app exited at start-up")
            with suppress(httpx.HTTPError):
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{base} not healthy")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run(report: Report) -> None:
    report.line(f"{PARTNERS} concurrent partners, {SECONDS:.0f} s per mode, on {os.cpu_count()} CPUs")
    modes: list[tuple[str, Callable[[], Any]]] = [("embedded", embedded), ("distributed", distributed)]
    rates: dict[str, float] = {}
    for mode, environment in modes:
        async with environment() as target:
            results, elapsed, drain = await drive(target, SECONDS, PARTNERS)
        rates[mode] = results.completed / elapsed
        baseline = rates.get("embedded") if mode == "distributed" else None
        report.figure(f"{mode}: sustained orders/s (full lifecycle)", rates[mode], "orders/s", baseline=baseline)
        report.figure(f"{mode}: requests/s", sum(len(v) for v in results.latencies.values()) / elapsed, "req/s")
        for step in STEPS:
            values = results.latencies.get(step, [])
            report.figure(f"{mode}: {step} p50", _pct(values, 0.50) * 1000, "ms")
            report.figure(f"{mode}: {step} p99", _pct(values, 0.99) * 1000, "ms")
        report.figure(f"{mode}: projection lag under load, max events", max(results.lag_events, default=0), "events")
        report.figure(f"{mode}: projection lag under load, mean streams behind",
                      sum(results.lag_streams) / max(len(results.lag_streams), 1), "streams")
        report.figure(f"{mode}: time to drain the lag after the load", drain, "s")
        if results.failures:
            report.line(f"{mode}: failed steps {dict(results.failures)}")
