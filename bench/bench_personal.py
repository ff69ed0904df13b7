"""Personal data (issue 16): sealing cost per event, appends and projection catch-up with
sealed customers beside the same work on clear-text customers (target >= 0.8x).

Seal/open: microseconds per order.reported customer (name, phone, address; contact None)
through the vault with its key cache warm. Appends: SQLite store, one order.reported per
append to a new stream; the sealed side seals inside the timed step, both sides build
their event inside it (catalog validation of the data is skipped on both: the clear side
builds a CatalogEvent, the sealed side's v2 is not in the catalog yet). Catch-up: a
projection-like loop over EVENTS events of SUBJECTS subjects read back from the store
(pages of 1000), turning each into a read-model row (customer, product, fault); the
sealed side opens the customer through the key cache (the keys of all subjects fit), after
one prefetch of the page's uncached keys (live keys expire after the cache's 60 s TTL).
Rounds interleaved, figures are medians of rounds, ratios medians of per-round ratios.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.personal_data import T0, report_data
from bench.report import Report
from bench.support import interleaved, median_ratio, rate
from libs.events import catalog
from libs.events.clock import ManualClock
from libs.events.db import create_engine, migrate
from libs.events.envelope import NewEvent
from libs.events.personal.keys import KeyCache, KeyTable
from libs.events.personal.vault import Vault
from libs.events.store import SqlEventStore, store_for

ROUNDS = 5
APPENDS = 1000  # per round and side
EVENTS = 100_000
SUBJECTS = 10_000
SEAL_N = 5000


def _customer(n: int) -> dict[str, str | None]:
    return {"name": f"张{n % 97}", "phone": f"138{n % SUBJECTS:08d}",
            "address": f"湖北省武汉市洪山区珞喻路{n % 500}号", "contact": None}


def _clear_event(n: int) -> NewEvent:
    data = report_data(_customer(n), n)
    payload = catalog.OrderReported.model_validate(data)
    return catalog.new_event(payload, type_="order.reported", source="intake",
                             actor="partner:jd-retail", occurred_at=T0)


async def _sealed_event(vault: Vault, n: int) -> NewEvent:
    customer = _customer(n)
    phone = customer["phone"]
    assert phone is not None
    envelope = await vault.seal(customer, vault.subject("gree", phone))
    return NewEvent(type="order.reported", schema_version=2, source="intake",
                    actor="partner:jd-retail", occurred_at=T0, data=report_data(envelope, n))


def _row(data: dict[str, Any], customer: Any) -> dict[str, Any]:
    return {"name": customer["name"], "phone": customer["phone"], "address": customer["address"],
            "model": data["product"]["model"], "fault": data["fault"]}


async def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'personal.db'}")
        await migrate(engine)
        vault = Vault(KeyTable(engine, ManualClock(T0), cache=KeyCache(size=2 * SUBJECTS)),
                      b"bench-secret")
        try:
            await _per_event(report, vault)
            await _appends(report, engine, vault)
            await _catch_up(report, engine, vault)
        finally:
            await engine.dispose()


async def _per_event(report: Report, vault: Vault) -> None:
    subject = vault.subject("gree", "13800138000")
    customer = _customer(0)
    envelope = await vault.seal(customer, subject)  # key created, cache warm
    started = time.perf_counter()
    for _ in range(SEAL_N):
        await vault.seal(customer, subject)
    sealed = (time.perf_counter() - started) / SEAL_N * 1e6
    started = time.perf_counter()
    for _ in range(SEAL_N):
        await vault.open(envelope)
    opened = (time.perf_counter() - started) / SEAL_N * 1e6
    report.figure("seal one customer (3 fields, cached key)", sealed, "µs")
    report.figure("open one customer (3 fields, cached key)", opened, "µs")


async def _appends(report: Report, engine: Any, vault: Vault) -> None:
    store: SqlEventStore = store_for(engine, ManualClock(T0))
    store.validate = False
    counter = [0]

    async def clear() -> float:
        async def step() -> int:
            counter[0] += 1
            await store.append(f"clear-{counter[0]}", [_clear_event(counter[0])], 0)
            return 1
        return await rate(step, APPENDS)

    async def sealed() -> float:
        async def step() -> int:
            counter[0] += 1
            await store.append(f"sealed-{counter[0]}", [await _sealed_event(vault, counter[0])], 0)
            return 1
        return await rate(step, APPENDS)

    figures = await interleaved(ROUNDS, {"clear": clear, "sealed": sealed})
    report.figure("append order.reported, clear customer", statistics.median(figures["clear"]),
                  "ev/s")
    report.figure("append order.reported, sealed customer", statistics.median(figures["sealed"]),
                  "ev/s", ratio=median_ratio(figures["sealed"], figures["clear"]), target=0.8)


async def _catch_up(report: Report, engine: Any, vault: Vault) -> None:
    store: SqlEventStore = store_for(engine, ManualClock(T0))
    store.validate = False
    for prefix, sealed in (("c", False), ("s", True)):
        for start in range(0, EVENTS, 500):
            batch = [await _sealed_event(vault, n) if sealed else _clear_event(n)
                     for n in range(start, start + 500)]
            await store.append(f"{prefix}-load-{start}", batch, 0)
    await store.close()
    wanted = {False: "c-load-", True: "s-load-"}
    vault.keys.cache.hits = vault.keys.cache.misses = 0

    async def loop(sealed: bool) -> float:
        rows, position, spent = 0, 0, 0.0
        while True:
            started = time.perf_counter()
            page = await store.read_all(position, 1000)
            if not page:
                break
            if sealed:
                await vault.prefetch(e.data["customer"] for e in page)
            for event in page:
                if not event.stream_id.startswith(wanted[sealed]):
                    continue
                data = event.data
                customer = (await vault.open(data["customer"])).fields if sealed else data["customer"]
                _row(data, customer)
                rows += 1
            position = page[-1].position
            spent += time.perf_counter() - started
        assert rows == EVENTS
        return rows / spent  # both sides read the whole log, each projects its half

    figures = await interleaved(3, {"clear": lambda: loop(False), "sealed": lambda: loop(True)})
    report.figure(f"catch-up over {EVENTS:,} clear (log read incl.)",
                  statistics.median(figures["clear"]), "ev/s")
    report.figure(f"catch-up over {EVENTS:,} sealed, key cache", statistics.median(figures["sealed"]),
                  "ev/s", ratio=median_ratio(figures["sealed"], figures["clear"]), target=0.8)
    cache = vault.keys.cache
    report.line(f"key cache: {cache.hits:,} hits, {cache.misses:,} misses, {len(cache):,} keys")
