"""Signed chain receipts over many streams: issuing one, proving one order, verifying the store.

Method: a fresh store (SQLite file, then PostgreSQL) is filled with STREAMS streams of two
events each (one append per stream, RECEIPT_STREAMS overrides the count). Then, once each
(these are whole-store operations, seconds long, not micro-benchmarks): `issue_receipt`
(snapshot query of every head, the RFC 6962 tree, the Ed25519 signature, the insert), a
party bundle of one order (loads the receipt and rebuilds its tree), and `verify_stored`
(every receipted stream read back, chain-checked and compared with its head). The pure
parts are timed apart: the tree plus signature over the same heads, and one inclusion
proof's verification (median of 2,000).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

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
from libs.events.store import store_for

STREAMS = int(os.environ.get("RECEIPT_STREAMS", "100000"))
WRITERS = 8


async def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'receipts.db'}")
        try:
            await migrate(engine)
            await _measure(report, "sqlite", engine)
        finally:
            await engine.dispose()
    async with fresh_postgres() as (_, engine):
        await _measure(report, "postgres", engine)


async def _fill(engine: AsyncEngine) -> None:
    store = store_for(engine)
    queue = iter(range(STREAMS))

    async def writer() -> None:
        for n in queue:
            await store.append(f"order-{n:07d}", [escalation(1, n), escalation(2, n)], 0)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    await store.close()


async def _measure(report: Report, backend: str, engine: AsyncEngine) -> None:
    started = time.perf_counter()
    await _fill(engine)
    report.line(f"{backend}: filled {STREAMS:,} streams in {time.perf_counter() - started:.1f}s")
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
