"""Checkpointed, idempotent, rebuildable projections.

A `Projection` names its read-model tables and a handler per event type. The
`Projector` runs it: every batch of events and the checkpoints that record them commit
in ONE transaction, so a crash never leaves a read model ahead of or behind its
checkpoint. Idempotency comes from the per-stream checkpoint (the last stream version
applied): duplicates and redeliveries are skipped whatever feed delivered them. A hole
in a stream (the broker lost messages, a topic was recreated) is filled from the store,
so Kafka offsets are only ever a hint.

Handler failures are recorded, not raised: the event goes to `dead_letters` with the
reason and the projection goes on (a command fails loudly; an event handler cannot
un-happen the event). Unknown types and schema versions newer than this reader go to
the dead letters too.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import MetaData, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateTable

from libs.events import catalog
from libs.events.clock import Clock, system_clock
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.errors import UnknownEventType
from libs.events.schema import checkpoints, dead_letters, stream_checkpoints
from libs.events.sqlutil import upsert
from libs.events.store.port import EventStore
from libs.events.wake import wait_any

log = logging.getLogger(__name__)
# NOTIFYed (PostgreSQL) by every transaction that moves a projection's checkpoint, payload =
# the projection's name: read-your-writes waiters in other processes wake on it.
CHECKPOINTED = "projection_checkpoints"

Handler = Callable[[AsyncConnection, StoredEvent, Any], Awaitable[None]]
BatchFn = Callable[[AsyncConnection, list[tuple[StoredEvent, Any]]], Awaitable[None]]


class Batched:
    """A handler that applies a run of consecutive events of its type in one go.

    For read models that must keep up with a busy topic: one SELECT and one
    executemany per run instead of a few statements per event. The projector hands it
    every consecutive (event, data) of its type in the batch, in order, in the batch's
    transaction; idempotency, gap filling and dead letters stay the projector's job.
    Called with a single event (a retry, the CLI) it behaves as a plain handler.
    """

    def __init__(self, fn: BatchFn) -> None:
        self.fn = fn

    async def __call__(self, conn: AsyncConnection, event: StoredEvent, data: Any) -> None:
        await self.fn(conn, [(event, data)])


@dataclass
class _Run:
    """Events waiting for a Batched handler (flushed before any other handler runs)."""

    handler: Batched | None = None
    items: list[tuple[StoredEvent, Any]] = field(default_factory=list)


@dataclass
class Projection:
    """A read model: its tables and what each event type does to them."""

    name: str
    metadata: MetaData
    handlers: dict[str, Handler]
    revision: int = 1  # bump when handler logic changes: the read model is then rebuilt

    def fingerprint(self, dialect: Any) -> str:
        ddl = "".join(str(CreateTable(tb).compile(dialect=dialect)) for tb in self.metadata.sorted_tables)
        return hashlib.sha256(f"{self.revision}:{ddl}".encode()).hexdigest()


@dataclass
class BatchResult:
    applied: int = 0
    skipped: int = 0
    dead: int = 0
    filled: int = 0
    last_position: int = 0
    positions: list[int] = field(default_factory=list)


class Projector:
    def __init__(
        self,
        engine: AsyncEngine,
        projection: Projection,
        store: EventStore | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.engine, self.projection, self.store, self.clock = engine, projection, store, clock
        self.name = projection.name
        self._lock = asyncio.Lock()
        self.on_checkpoint: list[Callable[[], None]] = []  # called after a batch moved the checkpoint

    async def setup(self) -> bool:
        """Create the read model; rebuild it when its definition changed. True if rebuilt."""
        fingerprint = self.projection.fingerprint(self.engine.dialect)
        async with self.engine.begin() as conn:
            await conn.run_sync(self.projection.metadata.create_all)
            row = (
                await conn.execute(select(checkpoints.c.fingerprint).where(checkpoints.c.name == self.name))
            ).first()
            if row is None:
                await self._save_position(conn, 0, fingerprint)
                return False
        if row[0] != fingerprint:
            log.warning("projection %s changed definition: rebuilding", self.name)
            await self.reset(fingerprint)
            return True
        return False

    async def reset(self, fingerprint: str | None = None) -> None:
        """Empty the read model and its checkpoints (the next feed pass rebuilds it)."""
        fingerprint = fingerprint or self.projection.fingerprint(self.engine.dialect)
        async with self.engine.begin() as conn:
            await conn.run_sync(self.projection.metadata.drop_all)
            await conn.run_sync(self.projection.metadata.create_all)
            await conn.execute(delete(stream_checkpoints).where(stream_checkpoints.c.projection == self.name))
            await conn.execute(delete(checkpoints).where(checkpoints.c.name == f"{self.name}:reconciled"))
            await conn.execute(delete(dead_letters).where(dead_letters.c.projection == self.name))
            await self._save_position(conn, 0, fingerprint)

    async def rebuild(
        self, batch: int = 2000, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Reset and replay the whole store; returns the number of events read."""
        if self.store is None:
            raise RuntimeError("rebuild needs the event store")
        await self.reset()
        head, position, count = await self.store.head_position(), 0, 0
        while events := await self.store.read_all(position, batch):
            await self.handle(events)
            position, count = events[-1].position, count + len(events)
            if progress:
                progress(position, head)
        return count

    async def reconcile(self, grace: float = 30.0, batch: int = 2000) -> int:
        """Apply from the store whatever the feed has not delivered after `grace` seconds.

        Kafka is an accelerator, not the source of truth: a broker that lost messages,
        or a topic recreated under the projector, cannot make the read model miss an
        event. Already-applied events are skipped by the per-stream checkpoints, so the
        sweep costs one read per batch. Returns how many events it had to apply.
        """
        if self.store is None:
            return 0
        name = f"{self.name}:reconciled"
        async with reader(self.engine).connect() as conn:
            row = (await conn.execute(select(checkpoints.c.position).where(checkpoints.c.name == name))).first()
        position, applied = (int(row[0]) if row else 0), 0
        horizon = self.clock() - timedelta(seconds=grace)
        while events := await self.store.read_all(position, batch):
            # Only the ripe PREFIX: recorded_at is taken before a writer queues for the
            # append lock, so it is not monotonic in position order, and advancing past a
            # ripe event would leave an earlier, unripe one behind for good.
            ripe = list(itertools.takewhile(lambda e: e.recorded_at <= horizon, events))
            if ripe:
                result = await self.handle(ripe)
                applied += result.applied + result.filled
                position = ripe[-1].position
            if len(ripe) < len(events):
                break
        async with self.engine.begin() as conn:
            await upsert(conn, checkpoints, [{"name": name, "position": position, "fingerprint": "",
                                              "updated_at": self.clock()}], ["name"])
        return applied

    async def position(self) -> int:
        async with reader(self.engine).connect() as conn:
            row = (await conn.execute(select(checkpoints.c.position).where(checkpoints.c.name == self.name))).first()
        return int(row[0]) if row else 0

    async def handle(self, events: Sequence[StoredEvent]) -> BatchResult:
        """Apply a batch in one transaction; on a handler error, retry one event at a time.

        The feed and the reconcile sweep may call this concurrently (and two projector
        processes may overlap during a rebalance): an in-process lock plus, on PostgreSQL,
        transaction-scoped advisory locks on the batch's streams make each stream's
        check-then-apply atomic, so no event is ever applied twice.
        """
        async with self._lock:
            result = await self._handle(events)
        if result.last_position:
            for listener in self.on_checkpoint:
                listener()
        return result

    async def _handle(self, events: Sequence[StoredEvent]) -> BatchResult:
        try:
            async with self.engine.begin() as conn:
                return await self._apply(conn, events, tolerate=False)
        except _HandlerFailed:
            result = BatchResult()
            for event in events:
                async with self.engine.begin() as conn:
                    one = await self._apply(conn, [event], tolerate=True)
                result.applied += one.applied
                result.skipped += one.skipped
                result.dead += one.dead
                result.filled += one.filled
                result.last_position = max(result.last_position, one.last_position)
            return result

    async def _apply(self, conn: AsyncConnection, events: Sequence[StoredEvent], tolerate: bool) -> BatchResult:
        result = BatchResult()
        streams = {e.stream_id for e in events}
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock(k) FROM "
                    "(SELECT DISTINCT hashtext(:p || '/' || s) AS k FROM unnest(CAST(:s AS text[])) AS s ORDER BY 1) AS ks"
                ),
                {"p": self.name, "s": sorted(streams)},
            )
        seen = await self._stream_versions(conn, streams)
        touched: dict[str, int] = {}
        run = _Run()
        for event in events:
            last = seen.get(event.stream_id, 0)
            if event.version <= last:
                result.skipped += 1
                continue
            if event.version > last + 1:
                for missing in await self._fill_gap(event.stream_id, last, event.version):
                    await self._apply_one(conn, missing, result, tolerate, run)
                    result.filled += 1
            await self._apply_one(conn, event, result, tolerate, run)
            seen[event.stream_id] = touched[event.stream_id] = event.version
            result.last_position = max(result.last_position, event.position)
        await self._flush(conn, run)
        if touched:
            rows = [{"projection": self.name, "stream_id": s, "version": v} for s, v in touched.items()]
            await upsert(conn, stream_checkpoints, rows, ["projection", "stream_id"])
            moved = (
                update(checkpoints)
                .where(checkpoints.c.name == self.name, checkpoints.c.position < result.last_position)
                .values(position=result.last_position, updated_at=self.clock())
            )
            if conn.dialect.name == "postgresql":  # delivered at commit, only if the row moved
                moved = moved.returning(func.pg_notify(CHECKPOINTED, self.name))
            await conn.execute(moved)
        return result

    async def _flush(self, conn: AsyncConnection, run: _Run) -> None:
        if run.handler is not None and run.items:
            try:
                await run.handler.fn(conn, run.items)
            except Exception as exc:
                raise _HandlerFailed from exc
        run.handler, run.items = None, []

    async def _apply_one(
        self, conn: AsyncConnection, event: StoredEvent, result: BatchResult, tolerate: bool, run: _Run | None = None
    ) -> None:
        try:
            current = catalog.upcast(event)
            handler = self.projection.handlers.get(current.type)
            if handler is None:
                result.skipped += 1
                return
            data = catalog.parse(current)
        except UnknownEventType as exc:
            await self._dead_letter(conn, event, str(exc))
            result.dead += 1
            return
        if run is not None and not tolerate:
            if isinstance(handler, Batched):
                if run.handler is not handler:
                    await self._flush(conn, run)
                    run.handler = handler
                run.items.append((current, data))
                result.applied += 1
                return
            await self._flush(conn, run)  # keep the batch's order across handlers
        try:
            if tolerate:
                async with conn.begin_nested():
                    await handler(conn, current, data)
            else:
                await handler(conn, current, data)
        except Exception as exc:
            if not tolerate:
                raise _HandlerFailed from exc
            log.exception("projection %s failed on %s", self.name, event.id)
            await self._dead_letter(conn, event, f"handler error: {type(exc).__name__}: {exc}")
            result.dead += 1
            return
        result.applied += 1

    async def _fill_gap(self, stream_id: str, last: int, upto: int) -> list[StoredEvent]:
        if self.store is None:
            return []
        log.info("projection %s: filling %s versions %d..%d from the store", self.name, stream_id, last + 1, upto - 1)
        return [e for e in await self.store.read_stream(stream_id, last + 1) if e.version < upto]

    async def _stream_versions(self, conn: AsyncConnection, streams: set[str]) -> dict[str, int]:
        if not streams:
            return {}
        sc = stream_checkpoints
        rows = await conn.execute(
            select(sc.c.stream_id, sc.c.version).where(sc.c.projection == self.name, sc.c.stream_id.in_(streams))
        )
        return {r[0]: r[1] for r in rows}

    async def _dead_letter(self, conn: AsyncConnection, event: StoredEvent, reason: str) -> None:
        row = {
            "projection": self.name,
            "event_id": event.id,
            "stream_id": event.stream_id,
            "version": event.version,
            "position": event.position,
            "type": event.type,
            "schema_version": event.schema_version,
            "reason": reason,
            "event": event.model_dump(mode="json"),
            "created_at": self.clock(),
        }
        await upsert(conn, dead_letters, [row], ["projection", "event_id"], update=["reason", "created_at"])

    async def _save_position(self, conn: AsyncConnection, position: int, fingerprint: str) -> None:
        row = {"name": self.name, "position": position, "fingerprint": fingerprint, "updated_at": self.clock()}
        await upsert(conn, checkpoints, [row], ["name"])


class Watermarks:
    """Waits until a projection's checkpoint, read from the database, has reached a position.

    The checkpoint is read from the database, so this works whether the projector runs in
    this process or another. Woken, not polling: `set()` is called by this process's
    projectors (`Projector.on_checkpoint`) and by PostgreSQL notifications on CHECKPOINTED
    from other processes; `safety_poll` only bounds the wait for a notification lost with
    its connection or unavailable (another process writing the same SQLite file).
    """

    def __init__(self, engine: AsyncEngine, safety_poll: float = 1.0) -> None:
        self.engine, self.safety_poll = engine, safety_poll
        self._moved = asyncio.Event()

    def set(self) -> None:
        """Some checkpoint moved: wake every waiter (each re-reads its own)."""
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def position(self, name: str) -> int:
        async with reader(self.engine).connect() as conn:
            row = (await conn.execute(select(checkpoints.c.position).where(checkpoints.c.name == name))).first()
        return int(row[0]) if row else 0

    async def wait_for(self, name: str, position: int, within: float) -> int:
        """The checkpoint once it is >= `position`, or what it is after `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            moved = self._moved  # taken before the read: a move after it is not missed
            reached = await self.position(name)
            remaining = deadline - loop.time()
            if reached >= position or remaining <= 0:
                return reached
            await wait_any(moved, within=min(remaining, self.safety_poll))


class _HandlerFailed(Exception):
    """Internal: a handler raised inside a batch; the batch is retried event by event."""


async def dump_read_model(engine: AsyncEngine, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal dumps mean two identical read models."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with reader(engine).connect() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
