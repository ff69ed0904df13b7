"""The same workload by our store and by the `eventsourcing` library (PostgreSQL, psycopg 3).

Workload: create 10,000 aggregates (orders) with 10 events each: one `order.reported`
carrying the full intake payload, then nine `order.escalated`. Like for like: both run
single-threaded, one aggregate at a time, each aggregate's 10 events written in ONE
append / ONE `Application.save()` (one transaction) to the same fresh PostgreSQL
database, and the measured time includes building the events on both sides. Both
serialise commits (ours: advisory lock; eventsourcing: LOCK TABLE) so that readers never
skip. Neither pings a pooled connection before using it (eventsourcing's default,
POSTGRES_PRE_PING=no; ours: the libs/events/db.py engine, which pings a connection only
after it sat idle). Ours additionally validates every event against the catalog (when
its payload is built, inside the measured time) and computes the hash chain. The two
run interleaved in chunks of 500 aggregates so that load from other processes hits both
alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg

from bench.report import Report
from bench.support import T0, fresh_postgres
from libs.events.db import create_engine
from libs.events.envelope import NewEvent
from libs.events.store import store_for

AGGREGATES = int(os.environ.get("BENCH_AGGREGATES", "10000"))
EVENTS_PER_AGGREGATE = 10
CHUNK = 500


def reported_data(n: int) -> dict[str, Any]:
    return {
        "channel": "partner",
        "external_ref": f"P-{n:08d}",
        "partner_id": "partner-7",
        "platform_id": None,
        "maker": "Haier",
        "customer": {"name": "Wang Fang", "phone": "13800138000", "address": "No. 8 Jiefang Rd", "contact": None},
        "product": {
            "category": "washing_machine", "brand": "Haier", "model": "XQG100", "serial": f"SN{n:010d}",
            "factory_date": "2025-01-10", "purchase_date": "2025-03-02", "quantity": 1,
        },
        "location": {"province": "Shandong", "city": "Qingdao", "county": "Laoshan", "provincial_capital": False},
        "working_conditions": "",
        "fault": "drum does not spin, error E21",
        "warranty": {"in_warranty": True, "coverage": "whole_unit", "rule": "3y-whole", "policy": "standard"},
        "tier": "dealer",
    }


def escalated_data(step: int) -> dict[str, Any]:
    return {"from_tier": "dealer", "to_tier": "regional", "reason": f"customer chased, step {step}",
            "trigger": "manual", "breach": None}


def our_events(n: int) -> list[NewEvent]:
    correlation = uuid4()
    first = NewEvent(type="order.reported", occurred_at=T0, source="intake", actor="partner:partner-7",
                     correlation_id=correlation, data=reported_data(n))
    return [first] + [
        NewEvent(type="order.escalated", schema_version=2, occurred_at=T0, source="dispatch", actor="staff:1",
                 correlation_id=correlation, data=escalated_data(step))
        for step in range(1, EVENTS_PER_AGGREGATE)
    ]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def run(report: Report) -> None:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Order(Aggregate):
        @event("Reported")
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data
            self.tier = data["tier"]

        @event("Escalated")
        def escalate(self, data: dict[str, Any]) -> None:
            self.tier = data["to_tier"]

    class Orders(Application[Any]):
        name = "Orders"

    async with fresh_postgres() as (url, migrated):
        await migrated.dispose()
        engine = create_engine(url)
        parts = urlsplit(url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
        }
        with environment(env):
            app = Orders()
        store = store_for(engine)

        def theirs(first: int, count: int) -> float:
            started = time.perf_counter()
            for n in range(first, first + count):
                order = Order(reported_data(n))
                for step in range(1, EVENTS_PER_AGGREGATE):
                    order.escalate(escalated_data(step))
                app.save(order)
            return time.perf_counter() - started

        async def ours(first: int, count: int) -> float:
            started = time.perf_counter()
            for n in range(first, first + count):
                await store.append(f"order-{n}", our_events(n), 0)
            return time.perf_counter() - started

        # warm both up (connections, prepared statements) outside the measurement
        theirs(-20, 20)
        await ours(-20, 20)
        spent_theirs = spent_ours = 0.0
        for first in range(0, AGGREGATES, CHUNK):
            count = min(CHUNK, AGGREGATES - first)
            spent_theirs += theirs(first, count)
            spent_ours += await ours(first, count)
        app.close()
        raw = await asyncpg.connect(url)
        try:
            ours_rows = await raw.fetchval("SELECT count(*) FROM events")
            their_rows = await raw.fetchval("SELECT count(*) FROM orders_events")
        finally:
            await raw.close()
        problems = await store.verify(f"order-{AGGREGATES - 1}")
        await engine.dispose()

    events = AGGREGATES * EVENTS_PER_AGGREGATE
    report.line(f"{AGGREGATES:,} aggregates x {EVENTS_PER_AGGREGATE} events, one append/save per aggregate, sequential")
    report.figure("eventsourcing 9.5 (psycopg 3, LOCK TABLE), total time", spent_theirs, "s")
    report.figure("our store (asyncpg, advisory lock, hash chain), total time", spent_ours, "s")
    report.figure("eventsourcing: aggregates created", AGGREGATES / spent_theirs, "aggregates/s")
    report.figure("our store: aggregates created", AGGREGATES / spent_ours, "aggregates/s",
                  baseline=AGGREGATES / spent_theirs, target=1.5)
    report.figure("eventsourcing: events written", events / spent_theirs, "events/s")
    report.figure("our store: events written", events / spent_ours, "events/s", baseline=events / spent_theirs)
    report.line(f"rows written: ours {ours_rows - 20 * EVENTS_PER_AGGREGATE:,}, "
                f"eventsourcing {their_rows - 20 * EVENTS_PER_AGGREGATE:,}; sampled hash chain intact: {not problems}")
