"""Dispatch visibility: from order.reported committed to the order standing in its region's dispatch queue.

Orders are appended straight to the store as intake would (source="intake") at a steady
rate, and a poller reads the queue table every POLL seconds until each order's row is
there (what `GET /dispatch/queues?region=` reads). Distributed mode runs the deploy
topology: this process appends (the intake API's role), a relay process publishes the
outbox to a Kafka-protocol broker (noida), and a dispatch projector process consumes the
topic as its consumer group into a fresh PostgreSQL database. Embedded mode: one
process, SQLite file, the projection tailing the store.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.factory import reported
from bench.report import Report
from bench.servers import Broker, create_database, drop_database, running_broker
from libs.events.db import create_engine, migrate, reader
from libs.events.schema import checkpoints
from libs.events.settings import Settings
from libs.events.store import EventStore, store_for
from libs.web.runtime import Runtime
from services.dispatch.app import SERVICE
from services.dispatch.projection import queue

RATE = 200  # orders per second
SECONDS = 10
POLL = 0.01
CONCURRENCY = 24  # appends in flight at once, like an API process's worker pool
RELAY = "relay:bench-dispatch"
CITIES = ["武汉市", "咸宁市", "宜昌市", "襄阳市"]


async def _poll(engine: AsyncEngine, committed: dict[str, tuple[int, float]], seen: dict[str, float], total: int,
                published: dict[str, float]) -> None:
    """Stamp each committed order when its queue row is readable (rows from the oldest pending position on),
    and, in distributed mode, when the relay's checkpoint has passed it (published to Kafka)."""
    while len(seen) < total:
        pending = [position for order, (position, _) in committed.items() if order not in seen]
        if pending:
            try:
                async with reader(engine).connect() as conn:
                    query = select(queue.c.order_id).where(queue.c.position >= min(pending))
                    found = (await conn.execute(query)).scalars().all()
                    relayed = (await conn.execute(select(checkpoints.c.position).where(checkpoints.c.name == RELAY))).scalar()
                now = time.perf_counter()
                seen.update((o, now) for o in found if o in committed and o not in seen)
                if relayed is not None:
                    published.update((o, now) for o, (p, _) in committed.items() if p <= relayed and o not in published)
            except Exception as exc:  # the projector may not have created its table yet
                if "dispatch_queue" not in str(exc):
                    raise
        await asyncio.sleep(POLL)


def _where(i: int) -> dict[str, Any]:
    city = CITIES[i % len(CITIES)]
    return {"province": "湖北省", "city": city, "county": f"{city}{i % 7}区", "provincial_capital": city == "武汉市"}


async def _load(
    report: Report, store: EventStore, engine: AsyncEngine, rate: int, seconds: float, tag: str,
) -> tuple[list[float], float]:
    """Append rate×seconds orders on schedule; returns visibility latencies (ms) and the rate achieved."""
    committed: dict[str, tuple[int, float]] = {}
    seen: dict[str, float] = {}
    total = int(rate * seconds)
    events = [reported(datetime.now(UTC), location=_where(i)) for i in range(total)]  # built before the clock runs
    published: dict[str, float] = {}
    poller = asyncio.create_task(_poll(engine, committed, seen, total, published))
    start = time.perf_counter()
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        async with slots:
            await _append(i)

    async def _append(i: int) -> None:
        order_id = f"{tag}-{i:06d}"
        result = await store.append(order_id, [events[i]], 0)
        committed[order_id] = (result.position, time.perf_counter())

    await asyncio.gather(*(one(i) for i in range(total)))
    achieved = total / (time.perf_counter() - start)
    try:
        await asyncio.wait_for(poller, timeout=90)
    except TimeoutError:
        raise RuntimeError(f"{total - len(seen)} orders never reached the dispatch queue") from None
    if published and not tag.startswith("warm"):
        relay = sorted(max(0.0, published[o] - at) * 1000 for o, (_, at) in committed.items() if o in published)
        mode = "distributed" if tag == "run" else f"distributed, {tag}"
        report.figure(f"{mode}: commit → published by the relay, p50", statistics.median(relay), "ms")
        report.figure(f"{mode}: commit → published by the relay, p99", relay[int(0.99 * (len(relay) - 1))], "ms")
    return [max(0.0, seen[o] - at) * 1000 for o, (_, at) in committed.items()], achieved


def _figures(report: Report, mode: str, latencies: list[float], achieved: float) -> None:
    ordered = sorted(latencies)
    report.figure(f"{mode}: orders appended per second (target {RATE})", achieved, "/s")
    report.figure(f"{mode}: visibility p50", statistics.median(ordered), "ms")
    report.figure(f"{mode}: visibility p99 (target < 1000 ms)", ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], "ms")
    report.figure(f"{mode}: visibility max", ordered[-1], "ms")


async def worker() -> None:
    """A relay or projector process of the distributed mode (settings from the environment)."""
    runtime = Runtime(Settings(), [SERVICE])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await runtime.start()
    await stop.wait()
    await runtime.stop()


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    code = "import asyncio; from bench.bench_dispatch import worker; asyncio.run(worker())"
    return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env}, stderr=subprocess.DEVNULL)


async def _wipe(broker: Broker) -> None:
    """Kill the broker, empty its data directory and start it again on the same port."""
    assert broker.data_dir is not None
    broker.stop()
    shutil.rmtree(broker.data_dir)
    os.makedirs(broker.data_dir)
    await asyncio.to_thread(broker.start)


async def _distributed(report: Report) -> None:
    url = await create_database()
    engine = create_engine(url)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await migrate(engine)
        with running_broker("noida") as broker:
            env = {"DATABASE_URL": url, "KAFKA_BOOTSTRAP": broker.bootstrap, "SERVICES": "dispatch", "DEMO": "false",
                   "TOPIC": "bench-dispatch", "LOG_LEVEL": "WARNING"}
            workers.append(_spawn({**env, "ROLE": "projector", "RUN_RELAY": "false"}))
            await asyncio.sleep(3)  # let the projector create its tables before the relay starts
            workers.append(_spawn({**env, "ROLE": "relay", "RUN_PROJECTIONS": "false"}))
            store = store_for(engine)
            await _load(report, store, engine, 20, 1, "warm")  # topic, consumer group and pools warmed up
            latencies, achieved = await _load(report, store, engine, RATE, SECONDS, "run")
            _figures(report, "distributed (PostgreSQL + Kafka, 3 processes)", latencies, achieved)
            await _wipe(broker)  # comes back empty: no topic, no group, no offsets
            wiped = time.perf_counter()
            recovery, _ = await _load(report, store, engine, 20, 1, "warm-after-wipe")
            report.figure("after the broker was wiped: first orders' visibility max", max(recovery), "ms")
            report.figure("after the broker was wiped: until those are visible", time.perf_counter() - wiped, "s")
            latencies, achieved = await _load(report, store, engine, RATE, SECONDS, "after-wipe")
            _figures(report, "distributed, broker wiped and restarted", latencies, achieved)
            for process in workers:
                process.terminate()
            for process in workers:
                process.wait(timeout=20)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
        await engine.dispose()
        await drop_database(url)


async def _embedded(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(database_url=f"sqlite:///{tmp}/bench.db", services="dispatch", demo=False), [SERVICE])
        await runtime.start()
        try:
            await _load(report, runtime.store, runtime.engine, 20, 1, "warm")
            latencies, achieved = await _load(report, runtime.store, runtime.engine, RATE, SECONDS, "run")
            _figures(report, "embedded (SQLite, store tail, 1 process)", latencies, achieved)
        finally:
            await runtime.stop()


async def run(report: Report) -> None:
    report.line(f"{RATE} orders/s for {SECONDS} s per mode; visibility polled every {POLL * 1000:.0f} ms")
    await _distributed(report)
    await _embedded(report)
