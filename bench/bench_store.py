"""Append throughput of the event store against plain driver inserts of the same rows.

Baselines write exactly the rows our store writes (same columns, same JSON, precomputed
hashes) into an identical table: PostgreSQL with asyncpg (one INSERT per event; batches
as executemany in a transaction and as COPY), SQLite with the stdlib sqlite3 module (same
pragmas: WAL, synchronous=NORMAL). Our store additionally checks every event against the
catalog (emitter, type, version; the data of events built by `catalog.new_event`, as all
services build theirs, was validated when their payload was built, outside the timing
like the baselines' row building), reads the stream head, computes the hash chain and
takes the commit-order lock, all inside the measured time. The baselines use one plain
connection; the store uses its pool as libs/events/db.py configures it (a connection is
pinged at checkout only after sitting idle), and, for comparison, with SQLAlchemy's
pool_pre_ping=True (a round trip at every checkout, the setting before).

Method: ROUNDS rounds; in each, every subject writes the same number of events (so the
tables grow alike), one subject after the other. Figures are medians over the rounds,
ratios the median of the per-round ratios (robust to this machine's drift).
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.report import Report
from bench.support import escalation, fresh_postgres, interleaved, median_ratio, rate
from libs.events.db import create_engine, migrate
from libs.events.envelope import GENESIS_HASH, NewEvent
from libs.events.store import SqlEventStore, store_for
from libs.events.store.sql import prepare_batch

ROUNDS = 12
SINGLES = 300  # events per round and subject, one per append
BATCH = 100
BATCHES = 30  # batches per round and subject
STREAMS = 200  # single-event appends go round-robin to existing streams, with expected_version
COLUMNS = (
    "id", "stream_id", "version", "type", "schema_version", "occurred_at", "recorded_at", "source", "actor",
    "correlation_id", "causation_id", "data", "prev_hash", "hash",
)


class Workload:
    """Feeds both sides the same kind of events: singles to existing streams, batches to new ones."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.versions = {f"{prefix}-s{i}": 0 for i in range(STREAMS)}
        self.order = list(self.versions)
        self.n = 0
        self.batches = 0

    def single(self) -> tuple[str, int, list[NewEvent]]:
        stream = self.order[self.n % STREAMS]
        self.n += 1
        version = self.versions[stream]
        self.versions[stream] = version + 1
        return stream, version, [escalation(self.n)]

    def batch(self) -> tuple[str, list[NewEvent]]:
        self.batches += 1
        return f"{self.prefix}-b{self.batches}", [escalation(i) for i in range(BATCH)]


def _rows(stream: str, version: int, events: list[NewEvent], pg: bool) -> list[tuple[Any, ...]]:
    """The rows our store would write for this append, ready for the plain driver."""
    now = datetime.now(UTC)
    rows, _ = prepare_batch(stream, events, version, GENESIS_HASH, now, as_json=False)
    if pg:
        return [
            (e.id, stream, v, e.type, e.schema_version, e.occurred_at, now, e.source, e.actor, e.correlation_id,
             e.causation_id, data, prev, digest)
            for e, v, prev, digest, data, *_ in rows
        ]
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    return [
        (e.id.hex, stream, v, e.type, e.schema_version, e.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f"), stamp,
         e.source, e.actor, e.correlation_id.hex, e.causation_id.hex if e.causation_id else None, data, prev, digest)
        for e, v, prev, digest, data, *_ in rows
    ]


def _figure(report: Report, label: str, runs: dict[str, list[float]], name: str, baseline: str | None = None,
            target: float | None = None) -> None:
    """The median of a subject's rounds, and the median of its per-round ratios to the baseline."""
    ratio = median_ratio(runs[name], runs[baseline]) if baseline else None
    report.figure(label, statistics.median(runs[name]), "events/s", ratio=ratio, target=target)


async def run(report: Report) -> None:
    await _postgres(report)
    report.line("")
    await _sqlite(report)


async def _postgres(report: Report) -> None:
    async with fresh_postgres() as (url, engine):
        raw = await asyncpg.connect(url)
        try:
            await raw.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
            store = store_for(engine)
            always_ping = create_engine(url, pool_pre_ping=True)
            pinging = store_for(always_ping)
            ours, base = Workload("ours"), Workload("raw")
            columns = ", ".join(COLUMNS)
            placeholders = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
            insert = f"INSERT INTO raw_events ({columns}) VALUES ({placeholders})"
            pending: dict[str, Any] = {}

            async def store_single() -> int:
                stream, version, events = pending["ours1"]
                await store.append(stream, events, version)
                return 1

            async def raw_single() -> int:
                await raw.execute(insert, *pending["raw1"][0])
                return 1

            async def store_batch() -> int:
                stream, events = pending["oursN"]
                await store.append(stream, events, 0)
                return BATCH

            async def pinging_single() -> int:
                stream, version, events = pending["ours1"]
                await pinging.append(stream, events, version)
                return 1

            async def pinging_batch() -> int:
                stream, events = pending["oursN"]
                await pinging.append(stream, events, 0)
                return BATCH

            async def raw_many() -> int:
                async with raw.transaction():
                    await raw.executemany(insert, pending["rawN"])
                return BATCH

            async def raw_copy() -> int:
                await raw.copy_records_to_table("raw_events", records=pending["rawN"], columns=COLUMNS)
                return BATCH

            def next_ours1() -> None:
                pending["ours1"] = ours.single()

            def next_raw1() -> None:
                stream, version, events = base.single()
                pending["raw1"] = _rows(stream, version, events, pg=True)

            def next_oursN() -> None:
                pending["oursN"] = ours.batch()

            def next_rawN() -> None:
                stream, events = base.batch()
                pending["rawN"] = _rows(stream, 0, events, pg=True)

            runs = await interleaved(
                ROUNDS,
                {
                    "raw1": lambda: rate(raw_single, SINGLES, next_raw1),
                    "ours1": lambda: rate(store_single, SINGLES, next_ours1),
                    "ping1": lambda: rate(pinging_single, SINGLES, next_ours1),
                    "many": lambda: rate(raw_many, BATCH * BATCHES, next_rawN),
                    "copy": lambda: rate(raw_copy, BATCH * BATCHES, next_rawN),
                    "oursN": lambda: rate(store_batch, BATCH * BATCHES, next_oursN),
                    "pingN": lambda: rate(pinging_batch, BATCH * BATCHES, next_oursN),
                },
            )
            problems = [p for s in list(ours.versions)[:5] for p in await store.verify(s)]
        finally:
            await raw.close()
            await always_ping.dispose()
    report.line("PostgreSQL (PostgresEventStore, asyncpg)")
    _figure(report, "raw asyncpg INSERT, one event per transaction", runs, "raw1")
    _figure(report, "store.append, 1 event, existing stream", runs, "ours1", "raw1")
    _figure(report, "  same, pool_pre_ping=True (a ping per checkout)", runs, "ping1", "raw1")
    _figure(report, "raw asyncpg executemany, 100 rows per transaction", runs, "many")
    _figure(report, "raw asyncpg COPY, 100 rows per statement", runs, "copy")
    # executemany in a transaction is the like-for-like baseline (an atomic batch of INSERTs);
    # COPY can neither return positions nor take the lock in the same statement.
    _figure(report, "store.append, 100 events, new stream (vs executemany)", runs, "oursN", "many", target=0.7)
    _figure(report, "  same figure vs COPY", runs, "oursN", "copy")
    _figure(report, "  same, pool_pre_ping=True (a ping per checkout), vs executemany", runs, "pingN", "many")
    report.line(f"hash chains of sampled streams intact: {not problems}")


async def _sqlite(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'store.db'}")
        await migrate(engine)
        store: SqlEventStore = store_for(engine)
        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        source = sqlite3.connect(Path(tmp) / "store.db")
        for (ddl,) in source.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL"):
            raw.execute(ddl)
        source.close()
        insert = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        ours, base = Workload("ours"), Workload("raw")
        pending: dict[str, Any] = {}

        async def store_single() -> int:
            stream, version, events = pending["ours1"]
            await store.append(stream, events, version)
            return 1

        async def raw_single() -> int:
            raw.execute("BEGIN")
            raw.execute(insert, pending["raw1"][0])
            raw.execute("COMMIT")
            return 1

        async def store_batch() -> int:
            stream, events = pending["oursN"]
            await store.append(stream, events, 0)
            return BATCH

        async def raw_many() -> int:
            raw.execute("BEGIN")
            raw.executemany(insert, pending["rawN"])
            raw.execute("COMMIT")
            return BATCH

        def next_ours1() -> None:
            pending["ours1"] = ours.single()

        def next_raw1() -> None:
            stream, version, events = base.single()
            pending["raw1"] = _rows(stream, version, events, pg=False)

        def next_oursN() -> None:
            pending["oursN"] = ours.batch()

        def next_rawN() -> None:
            stream, events = base.batch()
            pending["rawN"] = _rows(stream, 0, events, pg=False)

        try:
            runs = await interleaved(
                ROUNDS,
                {
                    "raw1": lambda: rate(raw_single, SINGLES, next_raw1),
                    "ours1": lambda: rate(store_single, SINGLES, next_ours1),
                    "rawN": lambda: rate(raw_many, BATCH * BATCHES, next_rawN),
                    "oursN": lambda: rate(store_batch, BATCH * BATCHES, next_oursN),
                },
            )
        finally:
            raw.close()
            await engine.dispose()
    report.line("SQLite (SqliteEventStore, aiosqlite; WAL, synchronous=NORMAL)")
    _figure(report, "raw sqlite3 INSERT, one event per transaction", runs, "raw1")
    _figure(report, "store.append, 1 event, existing stream", runs, "ours1", "raw1")
    _figure(report, "raw sqlite3 executemany, 100 rows per transaction", runs, "rawN")
    _figure(report, "store.append, 100 events, new stream", runs, "oursN", "rawN", target=0.7)
