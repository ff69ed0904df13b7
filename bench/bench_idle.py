"""Idle cost: CPU seconds each process burns while nothing happens (target < 1 % of a core).

Each process is started, left to settle, and its user+system CPU time read from
/proc/<pid>/stat before and after IDLE seconds with no request and no append. Embedded:
`python -m app` on SQLite. Distributed: the intake API (no projections), the relay and
the dispatch projector, on PostgreSQL and a noida broker. A short busy spell (orders
appended straight to the store) is measured in the same way beside it, after the idle one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.factory import reported
from bench.report import Report
from bench.servers import create_database, drop_database, free_port, running_broker, wait_port
from libs.events.db import create_engine, migrate
from libs.events.store import store_for

IDLE = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
SETTLE = 8.0  # start-up work (migrations, first connections, group join) is not idle cost
BUSY_ORDERS = 400
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _spawn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    secrets_ = {"PLATFORM_SECRET": secrets.token_urlsafe(32), "INTAKE_ID_KEY": secrets.token_urlsafe(32)}  # as deployed
    full = {**os.environ, **secrets_, **env, "PORT": str(port), "DEMO": "false", "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.Popen([sys.executable, "-m", "app"], env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


async def _measure(report: Report, processes: dict[str, subprocess.Popen[bytes]], busy: object) -> None:
    await asyncio.sleep(SETTLE)
    before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
    started = time.perf_counter()
    await asyncio.sleep(IDLE)
    elapsed = time.perf_counter() - started
    for name, p in processes.items():
        spent = cpu_seconds(p.pid) - before[name]
        report.figure(f"{name}: idle CPU over {IDLE:.0f} s (target < 1 % of a core)", 100 * spent / elapsed, "%")
    before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
    started = time.perf_counter()
    await busy()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    for name, p in processes.items():
        spent = cpu_seconds(p.pid) - before[name]
        report.figure(f"{name}: busy CPU, {BUSY_ORDERS} orders in {elapsed:.1f} s", 100 * spent / elapsed, "%")


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for p in processes.values():
        p.terminate()
    for p in processes.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def _append_orders(url: str) -> None:
    engine = create_engine(url)
    try:
        store = store_for(engine)
        for i in range(BUSY_ORDERS):
            await store.append(f"idle-bench-{i:05d}", [reported(datetime.now(UTC))], 0)
            await asyncio.sleep(0.005)
        await asyncio.sleep(2.0)  # let the relay and projector finish what they were sent
    finally:
        await engine.dispose()


async def _embedded(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/idle.db"
        port = free_port()
        processes = {"embedded server (python -m app, SQLite)": _spawn({"DATABASE_URL": url}, port)}
        try:
            await asyncio.to_thread(wait_port, port, 60)
            await _measure(report, processes, lambda: _append_orders(url))
        finally:
            _stop(processes)


async def _distributed(report: Report) -> None:
    url = await create_database()
    engine = create_engine(url)
    try:
        await migrate(engine)
        await engine.dispose()
        with running_broker("noida") as broker:
            env = {"DATABASE_URL": url, "KAFKA_BOOTSTRAP": broker.bootstrap, "TOPIC": "bench-idle"}
            roles = {
                "distributed API (intake)": {"SERVICES": "intake", "ROLE": "api", "RUN_PROJECTIONS": "false",
                                             "RUN_RELAY": "false"},
                "distributed relay": {"SERVICES": "", "ROLE": "relay", "RUN_PROJECTIONS": "false"},
                "distributed projector (dispatch)": {"SERVICES": "dispatch", "ROLE": "projector",
                                                     "RUN_RELAY": "false"},
            }
            processes: dict[str, subprocess.Popen[bytes]] = {}
            try:
                for name, role in roles.items():
                    port = free_port()
                    processes[name] = _spawn({**env, **role}, port)
                    await asyncio.to_thread(wait_port, port, 60)
                await _measure(report, processes, lambda: _append_orders(url))
            finally:
                _stop(processes)
    finally:
        await drop_database(url)


async def run(report: Report) -> None:
    report.line(f"idle {IDLE:.0f} s per process after {SETTLE:.0f} s of settling (BENCH_IDLE_SECONDS)")
    await _embedded(report)
    await _distributed(report)
