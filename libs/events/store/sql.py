"""SQLAlchemy implementation of the store, shared by the SQLite and PostgreSQL adapters.

Commit order = position order: every append takes one write lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE) before positions are
assigned, and holds it until commit. A transaction therefore cannot commit a lower
position after a reader has seen a higher one, which is what lets the relay and the
tailing projections read "everything after P" without ever skipping (the
out-of-order-commit gap problem). The lock is short: one head read and one multi-row
insert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events import catalog
from libs.events.clock import Clock, system_clock
from libs.events.db import reader
from libs.events.envelope import GENESIS_HASH, NewEvent, StoredEvent, chain_hash
from libs.events.errors import ConcurrencyConflict, DuplicateEventId, StoreUnavailable
from libs.events.schema import events as t
from libs.events.store.port import AppendResult, EventStore


class SqlEventStore(EventStore):
    def __init__(self, engine: AsyncEngine, clock: Clock = system_clock, validate: bool = True) -> None:
        self.engine = engine
        self.read_engine = reader(engine)
        self.clock = clock
        self.validate = validate
        self.listeners: list[Callable[[AppendResult], None]] = []  # called after each commit

    async def _lock(self, conn: AsyncConnection) -> None:
        """Adapters override: serialise appenders until commit."""

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        if self.validate:
            for event in events:
                catalog.validate(event)
        try:
            async with self.engine.begin() as conn:
                await self._lock(conn)
                result = await self._append_locked(conn, stream_id, events, expected_version)
        except IntegrityError:
            return await self._already_stored(stream_id, events)
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, DBAPIError) and not _is_disconnect(exc):
                raise
            raise StoreUnavailable(str(exc)) from exc
        if not result.replayed:
            for listener in self.listeners:
                listener(result)
        return result

    async def _append_locked(
        self, conn: AsyncConnection, stream_id: str, events: Sequence[NewEvent], expected: int | None
    ) -> AppendResult:
        head = (
            await conn.execute(
                select(t.c.version, t.c.hash)
                .where(t.c.stream_id == stream_id)
                .order_by(t.c.version.desc())
                .limit(1)
            )
        ).first()
        version, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
        if expected is not None and expected != version:
            stored = await self._find(conn, events)
            if stored:
                return self._replayed(stream_id, events, stored)
            raise ConcurrencyConflict(stream_id, expected, version)
        recorded_at = self.clock()
        rows: list[dict[str, Any]] = []
        for event in events:
            version += 1
            digest = chain_hash(
                event, stream_id=stream_id, version=version, recorded_at=recorded_at, prev_hash=prev_hash
            )
            rows.append(
                {
                    **event.model_dump(),
                    "stream_id": stream_id,
                    "version": version,
                    "recorded_at": recorded_at,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest
        result = await conn.execute(
            insert(t).returning(t.c.position, sort_by_parameter_order=True), rows
        )
        positions = [row[0] for row in result]
        stored_events = tuple(
            StoredEvent(**row, position=pos) for row, pos in zip(rows, positions, strict=True)
        )
        return AppendResult(stream_id, version, positions[-1], stored_events)

    async def _find(self, conn: AsyncConnection, events: Sequence[NewEvent]) -> list[StoredEvent]:
        ids = [e.id for e in events]
        rows = (await conn.execute(select(t).where(t.c.id.in_(ids)).order_by(t.c.position))).mappings()
        return [_to_event(r) for r in rows]

    async def _already_stored(self, stream_id: str, events: Sequence[NewEvent]) -> AppendResult:
        async with self.read_engine.connect() as conn:
            stored = await self._find(conn, events)
        if not stored:
            # a unique (stream, version) race without the lock: report it as a conflict
            raise ConcurrencyConflict(stream_id, -1, await self.stream_version(stream_id))
        return self._replayed(stream_id, events, stored)

    @staticmethod
    def _replayed(stream_id: str, events: Sequence[NewEvent], stored: list[StoredEvent]) -> AppendResult:
        if len(stored) != len(events) or any(s.stream_id != stream_id for s in stored):
            raise DuplicateEventId(f"event ids {[str(e.id) for e in events]} partly stored elsewhere")
        return AppendResult(stream_id, stored[-1].version, stored[-1].position, tuple(stored), True)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[StoredEvent]:
        query = (
            select(t)
            .where(t.c.stream_id == stream_id, t.c.version >= from_version)
            .order_by(t.c.version)
        )
        return await self._query(query)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        query = select(t).where(t.c.position > after_position).order_by(t.c.position).limit(limit)
        return await self._query(query)

    async def _query(self, query: Any) -> list[StoredEvent]:
        try:
            async with self.read_engine.connect() as conn:
                return [_to_event(r) for r in (await conn.execute(query)).mappings()]
        except (DBAPIError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def head_position(self) -> int:
        async with self.read_engine.connect() as conn:
            return int((await conn.execute(select(func.coalesce(func.max(t.c.position), 0)))).scalar_one())

    async def stream_version(self, stream_id: str) -> int:
        async with self.read_engine.connect() as conn:
            query = select(func.coalesce(func.max(t.c.version), 0)).where(t.c.stream_id == stream_id)
            return int((await conn.execute(query)).scalar_one())


def _to_event(row: RowMapping) -> StoredEvent:
    return StoredEvent.model_validate(dict(row))


def _is_disconnect(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated) or "connect" in str(exc).lower()
