"""Signed chain receipts over many streams: issuing one, proving one order, verifying the store.

Method: a fresh store (SQLite file, then PostgreSQL) is loaded with STREAMS streams of two
events each, the rows the store itself would write (RECEIPT_STREAMS overrides the count).
Then, once each (whole-store operations, seconds long, not micro-benchmarks): `issue_receipt`
(snapshot query of every head, the RFC 6962 tree, the Ed25519 signature, the insert), a
party bundle of one order (loads the receipt and rebuilds its tree), and `verify_stored`
(every receipted stream read back, chain-checked and compared with its head). The pure
parts are timed apart: the tree plus signature over the same heads, and one inclusion
proof's verification (median of 2,000).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.bench_store import COLUMNS, _rows
from bench.report import Report
from bench.support import T0, escalation, fresh_postgres
from libs.events.clock import system_clock
from libs.events.db import create_engine, migrate
from libs.events.receipt_store import (
    issue_day_receipt,
    load_receipt,
    receipts,
    snapshot,
    verify_stored,
)
from libs.events.receipts import InclusionProof, issue, party_bundle, verify_proof

STREAMS = int(os.environ.get("RECEIPT_STREAMS", "100000"))


async def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receipts.db"
        engine = create_engine(f"sqlite:///{path}")
        try:
            await migrate(engine)
            started = time.perf_counter()
            db = sqlite3.connect(path)
            try:
                with db:  # one transaction
                    db.executemany(_insert("?" * len(COLUMNS)), _fill_rows(pg=False))
            finally:
                db.close()
            _filled(report, "sqlite", started)
            await _measure(report, "sqlite", engine)
        finally:
            await engine.dispose()
    async with fresh_postgres() as (url, engine):
        started = time.perf_counter()
        raw = await asyncpg.connect(url)
        try:
            await raw.copy_records_to_table("events", records=_fill_rows(pg=True), columns=COLUMNS)
            await raw.execute("ANALYZE events")
        finally:
            await raw.close()
        _filled(report, "postgres", started)
        await _measure(report, "postgres", engine)


def _fill_rows(pg: bool) -> list[tuple[Any, ...]]:
    """The rows the store would write for one two-event append to each of STREAMS streams
    (loaded in bulk: appending them one stream at a time would take minutes)."""
    return [
        row
        for n in range(STREAMS)
        for row in _rows(f"order-{n:07d}", 0, [escalation(1, n), escalation(2, n)], pg)
    ]


def _insert(marks: str) -> str:
    return f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join(marks)})"


def _filled(report: Report, backend: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    report.line(f"{backend}: loaded {STREAMS:,} streams x 2 events in {elapsed:.1f}s")


async def _measure(report: Report, backend: str, engine: AsyncEngine) -> None:
    key = Ed25519PrivateKey.generate()

    started = time.perf_counter()
    receipt_id, receipt = await issue_day_receipt(engine, key, T0.date())
    report.figure(
        f"{backend}: issue_receipt over {STREAMS:,} streams",
        (time.perf_counter() - started) * 1e3,
        "ms",
    )

    started = time.perf_counter()
    head, heads = await snapshot(engine)
    report.figure(
        f"{backend}:   of which the snapshot query", (time.perf_counter() - started) * 1e3, "ms"
    )
    started = time.perf_counter()
    issue(heads, head, "day", "again", system_clock(), key)
    report.figure(
        f"{backend}:   of which tree + signature (pure)",
        (time.perf_counter() - started) * 1e3,
        "ms",
    )
    async with engine.connect() as conn:
        blob = (
            await conn.execute(select(receipts.c.heads).where(receipts.c.id == receipt_id))
        ).scalar_one()
    report.figure(f"{backend}: stored heads (zlib JSON) per receipt", len(blob) / 1e6, "MB")

    started = time.perf_counter()
    loaded = await load_receipt(engine, receipt_id)
    assert loaded is not None
    bundle = party_bundle(loaded[1], ["order-0000042"], key.public_key())
    report.figure(
        f"{backend}: load receipt + one order's bundle", (time.perf_counter() - started) * 1e3, "ms"
    )
    proof = InclusionProof.from_dict(bundle["proofs"][0])
    body = receipt.body()
    timings = []
    for _ in range(2000):
        started = time.perf_counter()
        ok = verify_proof(body, proof)
        timings.append(time.perf_counter() - started)
        assert ok
    report.figure(
        f"{backend}: verify one inclusion proof ({len(proof.path)} hashes)",
        statistics.median(timings) * 1e6,
        "µs",
    )

    started = time.perf_counter()
    problems = await verify_stored(engine, receipt, key.public_key())
    assert problems == []
    report.figure(
        f"{backend}: verify_stored, whole store", (time.perf_counter() - started) * 1e3, "ms"
    )
