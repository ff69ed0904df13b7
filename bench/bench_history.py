"""As-of for one order on a store of a million events (PostgreSQL).

Method: a fresh database is loaded in bulk (COPY) with HISTORY_EVENTS events (default
1,000,000: 100,000 streams of 10, the rows the store itself would write, hash chains
included). Then the intake API (in-process, httpx ASGITransport, projections off as in the
distributed mode) reports one order and escalates it twice, with more bulk-loaded streams
between. Timed: `GET /history/orders/{id}?as_of=<position>` at a point between the two
escalations (the store folded up to there), beside the live `GET /orders/{id}`; median and
p95 of ROUNDS requests each, interleaved.

What-if: WHATIF_ORDERS orders (default 5,000; reported, dispatched to one of two providers,
on site, repaired: 4 events each, COPY-loaded) and one live standard; timed once:
`services.settlement.whatif.what_if` with a draft doubling the labour rate over the month
(the scratch rebuild of the settlement read model from the store, then the comparison).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import asyncpg
import httpx

from app.main import create_app
from bench import settlement_events as factory
from bench.bench_store import COLUMNS, _rows
from bench.intake_bodies import order_body
from bench.report import Report
from bench.support import escalation, fresh_postgres
from libs.events.clock import system_clock
from libs.events.settings import Settings
from libs.events.store import store_for
from libs.web.runtime import Runtime
from services.settlement.domain.standards import FeeStandardCreate
from services.settlement.reference import add_standard
from services.settlement.whatif import WhatIfRequest, draft_standard, what_if

WHATIF_ORDERS = int(os.environ.get("WHATIF_ORDERS", "5000"))
EVENTS = int(os.environ.get("HISTORY_EVENTS", "1000000"))
PER_STREAM = 10
ROUNDS = 300
AUTH = {"Authorization": "Bearer demo-partner-key"}


def _fill(first: int, streams: int) -> list[tuple[Any, ...]]:
    return [
        row
        for n in range(first, first + streams)
        for row in _rows(f"bulk-{n:07d}", 0, [escalation(i, n) for i in range(PER_STREAM)], True)
    ]


async def _copy(url: str, first: int, streams: int, chunk: int = 10_000) -> None:
    """COPY `streams` streams from number `first`, `chunk` streams at a time (bounded memory)."""
    raw = await asyncpg.connect(url)
    try:
        for start in range(first, first + streams, chunk):
            rows = _fill(start, min(chunk, first + streams - start))
            await raw.copy_records_to_table("events", records=rows, columns=COLUMNS)
        await raw.execute("ANALYZE events")
    finally:
        await raw.close()


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.95)] * 1e3


async def run(report: Report) -> None:
    await _as_of(report)
    await _what_if(report)


async def _as_of(report: Report) -> None:
    streams = EVENTS // PER_STREAM
    async with fresh_postgres() as (url, _engine):
        started = time.perf_counter()
        await _copy(url, 0, streams // 2)
        report.line(
            f"loaded {streams // 2 * PER_STREAM:,} events in {time.perf_counter() - started:.1f}s"
        )
        app = create_app(
            Settings(
                database_url=url,
                services="intake",
                demo=True,
                log_level="WARNING",
                run_projections=False,
            )
        )
        runtime: Runtime = app.state.runtime
        await runtime.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench"
            ) as client:
                made = await client.post("/orders", json=order_body(), headers=AUTH)
                assert made.status_code == 201, made.text
                order = made.json()["order_id"]
                await client.post(
                    f"/orders/{order}/escalations", json={"reason": "经销商无法处理"}, headers=AUTH
                )
                middle = await runtime.store.head_position()
                started = time.perf_counter()
                await _copy(url, streams // 2, streams - streams // 2)
                report.line(
                    f"loaded {(streams - streams // 2) * PER_STREAM:,} more events in "
                    f"{time.perf_counter() - started:.1f}s"
                )
                await client.post(
                    f"/orders/{order}/escalations", json={"reason": "区域无法处理"}, headers=AUTH
                )
                head = await runtime.store.head_position()
                report.line(f"store head: position {head:,}; as-of point: position {middle:,}")
                past, live = [], []
                for _ in range(ROUNDS):
                    t = time.perf_counter()
                    answer = await client.get(
                        f"/history/orders/{order}", params={"as_of": middle}, headers=AUTH
                    )
                    past.append(time.perf_counter() - t)
                    assert answer.status_code == 200 and answer.json()["tier"] == "regional", (
                        answer.text
                    )
                    t = time.perf_counter()
                    now = await client.get(f"/orders/{order}", headers=AUTH)
                    live.append(time.perf_counter() - t)
                    assert now.status_code == 200 and now.json()["tier"] == "hq"
        finally:
            await runtime.stop()
    for label, samples in (
        ("as-of GET /history/orders/{id}", past),
        ("live GET /orders/{id}", live),
    ):
        median, p95 = _ms(samples)
        report.figure(f"{label}, median", median, "ms")
        report.figure(f"{label}, p95", p95, "ms")


def _order_rows(n: int) -> list[tuple[Any, ...]]:
    provider = ("prov-wuhan", "prov-yichang")[n % 2]
    events = [
        factory.reported(serial=f"SN-{n}", ref=f"JD-{n:07d}"),
        factory.dispatched(provider),
        factory.arrived(),
        factory.repaired(),
    ]
    return _rows(f"whatif-{n:07d}", 0, events, True)


async def _what_if(report: Report) -> None:
    async with fresh_postgres() as (url, engine):
        started = time.perf_counter()
        raw = await asyncpg.connect(url)
        try:
            for first in range(0, WHATIF_ORDERS, 5000):
                rows = [
                    r
                    for n in range(first, min(first + 5000, WHATIF_ORDERS))
                    for r in _order_rows(n)
                ]
                await raw.copy_records_to_table("events", records=rows, columns=COLUMNS)
            await raw.execute("ANALYZE events")
        finally:
            await raw.close()
        report.line(
            f"what-if: loaded {WHATIF_ORDERS:,} orders x 4 events in "
            f"{time.perf_counter() - started:.1f}s"
        )
        live = FeeStandardCreate.model_validate(factory.standard_body(provider_id="*"))
        await add_standard(engine, live, system_clock, "bench")
        body = factory.standard_body(
            provider_id="*", labour_fen_per_hour={"air_conditioner": 12000}
        )
        request = WhatIfRequest.model_validate(
            {"draft": body, "from": "2026-05-01", "to": "2026-05-31"}
        )
        draft = draft_standard(request.draft, system_clock, "bench")
        started = time.perf_counter()
        result = await what_if(store_for(engine), engine, request, draft)
        elapsed = time.perf_counter() - started
    assert result["totals"]["orders"] == WHATIF_ORDERS, result["totals"]
    assert result["totals"]["difference_fen"] == 9000 * WHATIF_ORDERS
    report.figure(
        f"what-if over {WHATIF_ORDERS:,} orders ({4 * WHATIF_ORDERS:,} events)", elapsed, "s"
    )
    report.figure("  replayed events per second", 4 * WHATIF_ORDERS / elapsed, "ev/s")
