"""SQLAlchemy implementation of the store, shared by the SQLite and PostgreSQL adapters.

Commit order = position order: every append takes one write lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE) before positions are
assigned, and holds it until commit. A transaction therefore cannot commit a lower
position after a reader has seen a higher one, which is what lets the relay and the
tailing projections read "everything after P" without ever skipping (the
out-of-order-commit gap problem).

Appends are the hot path, so on the two drivers we ship (asyncpg, aiosqlite) they talk
to the driver connection directly instead of going through SQLAlchemy Core:

- PostgreSQL with an expected version: one round trip reads the stream head (none for a
  new stream), one autocommitted statement takes the advisory lock, inserts the whole
  batch (sent as one JSON array, `jsonb_to_recordset`) and commits. The head is read
  before the lock, optimistically: the unique (stream_id, version) constraint refuses
  the insert if another writer got there first, which is then a ConcurrencyConflict
  like any other; the hash chain is thus always computed from the real predecessor.
  With ANY_VERSION the head is read under the lock instead (BEGIN + lock in one round
  trip), so writers racing on one stream queue rather than fail.
- SQLite: BEGIN IMMEDIATE, one query for the stream head and the log head, one
  executemany with explicit positions, COMMIT; inline on the event loop's thread when
  the write lock is free, else in one trip to an aiosqlite connection's thread.

Any other driver uses the portable SQLAlchemy path below (same contract, slower).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn

from libs.events import catalog
from libs.events.clock import Clock, ensure_utc, iso_utc, system_clock
from libs.events.db import SQLITE_PRAGMAS, reader, sqlite_file
from libs.events.envelope import GENESIS_HASH, NewEvent, StoredEvent, canonical_json, chain_body, chain_hash
from libs.events.errors import ConcurrencyConflict, DuplicateEventId, StoreUnavailable
from libs.events.schema import events as t
from libs.events.store.port import AppendResult, EventStore

log = logging.getLogger(__name__)

APPEND_LOCK = 7_351_000  # the same key as PostgresEventStore's
# The LISTEN/NOTIFY channel every committed append notifies (delivered at commit, never for a
# rolled-back one): relays and projectors in other processes wake on it instead of polling.
APPENDED = "events_appended"
_RETRIES = 20  # ANY_VERSION appends racing other writers of the same stream


_PG_HEAD = f"SELECT version, hash FROM {t.name} WHERE stream_id = $1 ORDER BY version DESC LIMIT 1"
_PG_INSERT = f"""
INSERT INTO {t.name} (id, stream_id, version, type, schema_version, occurred_at, recorded_at, source, actor,
                    correlation_id, causation_id, data, prev_hash, hash)
SELECT u.id, $2, u.version, u.type, u.schema_version, u.occurred_at, $3, u.source, u.actor,
       u.correlation_id, u.causation_id, u.data, u.prev_hash, u.hash
FROM (SELECT pg_advisory_xact_lock($1)) AS write_lock,
     (SELECT pg_notify('{APPENDED}', '')) AS wake_listeners,
     jsonb_to_recordset($4::jsonb)
       AS u(id uuid, version int, type text, schema_version int, occurred_at timestamptz, source text, actor text,
            correlation_id uuid, causation_id uuid, data jsonb, prev_hash text, hash text)
RETURNING version, position
"""
_SQLITE_HEAD = (
    f"SELECT (SELECT coalesce(max(position), 0) FROM {t.name}), h.version, h.hash FROM (SELECT 1) "
    f"LEFT JOIN (SELECT version, hash FROM {t.name} WHERE stream_id = ? ORDER BY version DESC LIMIT 1) AS h"
)
_SQLITE_INSERT = (
    f"INSERT INTO {t.name} (position, id, stream_id, version, type, schema_version, occurred_at, recorded_at, "
    "source, actor, correlation_id, causation_id, data, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_PG_DISCONNECTED = (
    asyncpg.InterfaceError,  # e.g. ConnectionDoesNotExistError
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # 57P01..03: shut down, crashed, starting up
    # The server's FATAL notice reached an idle pooled connection before the socket closed:
    # asyncpg parks the protocol in its error state and the next query fails with this
    # instead of "connection is closed" (hit by ~half of appends made within 3 ms of a kill).
    asyncpg.InternalClientError,
    ConnectionError,
)


class _Race(Exception):
    """Internal: another writer took the versions this append computed (unique violation)."""


Row = tuple[NewEvent, int, str, str, str, str]
"""event, version, prev_hash, hash, data (canonical JSON), occurred_at (ISO 8601, UTC)"""


def prepare_batch(
    stream_id: str, events: Sequence[NewEvent], version: int, prev_hash: str, recorded_at: datetime, as_json: bool
) -> tuple[list[Row], str]:
    """Number and hash-chain a batch after `version`; also its rows as one JSON array if asked
    (what the PostgreSQL insert takes). The hash is `envelope.chain_hash`'s."""
    recorded = iso_utc(recorded_at)
    rows: list[Row] = []
    sha256 = hashlib.sha256
    for event in events:
        version += 1
        occurred = iso_utc(event.occurred_at)
        digest = sha256(prev_hash.encode() + chain_body(event, stream_id, version, occurred, recorded)).hexdigest()
        rows.append((event, version, prev_hash, digest, canonical_json(event.data), occurred))
        prev_hash = digest
    if not as_json:
        return rows, ""
    batch = orjson.dumps(
        [
            {
                "id": e.id, "version": v, "type": e.type, "schema_version": e.schema_version, "occurred_at": occurred,
                "source": e.source, "actor": e.actor, "correlation_id": e.correlation_id,
                "causation_id": e.causation_id, "data": orjson.Fragment(data), "prev_hash": prev, "hash": digest,
            }
            for e, v, prev, digest, data, occurred in rows
        ],
        default=str,  # UUIDs of other classes (asyncpg's, read back from the store)
    )
    return rows, batch.decode()


class SqlEventStore(EventStore):
    def __init__(self, engine: AsyncEngine, clock: Clock = system_clock, validate: bool = True) -> None:
        self.engine = engine
        self.read_engine = reader(engine)
        self.clock = clock
        self.validate = validate
        # called after each commit with its result and the events as appended (which, unlike
        # result.events, cost nothing to hand over)
        self.listeners: list[Callable[[AppendResult, Sequence[NewEvent]], None]] = []
        driver = (engine.dialect.name, engine.dialect.driver)
        self._fast = {("postgresql", "asyncpg"): "pg", ("sqlite", "aiosqlite"): "sqlite"}.get(driver)
        self._inline_file = sqlite_file(engine) if self._fast == "sqlite" else None
        self._inline: sqlite3.Connection | None = None

    async def _lock(self, conn: AsyncConnection) -> None:
        """Adapters override: serialise appenders until commit (portable path only)."""

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        if self.validate:
            for event in events:
                catalog.validate(event)
        try:
            if self._fast is None:
                result = await self._append_portable(stream_id, events, expected_version)
            else:
                result = await self._append_fast(stream_id, events, expected_version)
        except IntegrityError:
            return await self._already_stored(stream_id, events, expected_version)
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, DBAPIError) and not _is_disconnect(exc):
                raise
            raise StoreUnavailable(str(exc)) from exc
        if not result.replayed:
            for listener in self.listeners:
                listener(result, events)
        return result

    # -- fast path (asyncpg / aiosqlite driver connections) -------------------------------

    async def _append_fast(
        self, stream_id: str, events: Sequence[NewEvent], expected: int | None
    ) -> AppendResult:
        reconnected = False
        for _ in range(_RETRIES):
            try:
                if self._fast == "pg":
                    async with self._pooled() as raw:
                        return await self._pg_append(raw, stream_id, events, expected)
                return await self._sqlite_append(stream_id, events, expected)
            except _PG_DISCONNECTED as exc:
                if reconnected:
                    raise StoreUnavailable(str(exc)) from exc
                # The server went away under a pooled connection (a restart, an idle
                # timeout): every pooled connection is as dead, so drop the pool, and try
                # once more on a fresh connection. Safe even if the first attempt did
                # commit: its event ids are stored, so the retry answers what was stored.
                # This, rather than a ping at every checkout, is what keeps a restart
                # invisible to appends (pool_pre_ping cost ~15% of append throughput).
                reconnected = True
                log.warning("event store connection lost (%s); reconnecting", exc)
                await self.engine.dispose(close=False)
            except _Race:
                replay = await self._replay_or_none(stream_id, events)
                if replay is not None:
                    return replay
                if expected is not None:
                    raise ConcurrencyConflict(stream_id, expected, await self.stream_version(stream_id)) from None
            except _Conflict as conflict:
                replay = await self._replay_or_none(stream_id, events)
                if replay is not None:
                    return replay
                raise ConcurrencyConflict(stream_id, conflict.expected, conflict.actual) from None
        raise StoreUnavailable(f"stream {stream_id}: gave up after {_RETRIES} write races")

    @contextlib.asynccontextmanager
    async def _pooled(self) -> AsyncIterator[Any]:
        """A bare pooled driver connection (a SQLAlchemy Connection around it costs greenlet
        switches at checkout and return), handed back inside a greenlet (returning one the
        pool has no room for closes it, which is I/O on the async drivers) or discarded if
        an error may have left it mid-transaction or mid-protocol.

        Engine.raw_connection does not wrap the driver's errors as Engine.connect does: a
        server that refuses connections is unavailable.
        """
        try:
            pooled = await self.engine.raw_connection()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            raise StoreUnavailable(str(exc)) from exc
        raw = pooled.driver_connection
        try:
            yield raw
        except BaseException as exc:
            discard = not isinstance(exc, _Race | _Conflict) and _broken(raw, self._fast, exc)
            with contextlib.suppress(Exception):  # the error that brought us here is the one to report
                await greenlet_spawn(pooled.invalidate if discard else pooled.close)
            raise
        await greenlet_spawn(pooled.close)

    async def _pg_append(
        self, raw: Any, stream_id: str, events: Sequence[NewEvent], expected: int | None
    ) -> AppendResult:
        if expected is None:
            return await self._pg_append_locked(raw, stream_id, events)
        if expected == 0:
            version, prev_hash = 0, GENESIS_HASH  # a new stream: version 1's uniqueness is the check
        else:
            head = await raw.fetchrow(_PG_HEAD, stream_id)
            version, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
            if expected != version:
                raise _Conflict(expected, version)
        return await self._pg_insert(raw, stream_id, events, version, prev_hash)

    async def _pg_append_locked(self, raw: Any, stream_id: str, events: Sequence[NewEvent]) -> AppendResult:
        """ANY_VERSION: read the head under the lock, so writers racing on one stream queue
        instead of failing and retrying (each failed insert would also burn positions)."""
        await raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK})")
        try:
            head = await raw.fetchrow(_PG_HEAD, stream_id)
            version, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
            result = await self._pg_insert(raw, stream_id, events, version, prev_hash)
            await raw.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await raw.execute("ROLLBACK")
            raise
        return result

    async def _pg_insert(
        self, raw: Any, stream_id: str, events: Sequence[NewEvent], version: int, prev_hash: str
    ) -> AppendResult:
        """One statement: take the commit-order lock, insert the batch, return the positions
        (and commit, unless the caller opened a transaction)."""
        recorded_at = ensure_utc(self.clock())
        rows, batch = prepare_batch(stream_id, events, version, prev_hash, recorded_at, as_json=True)
        try:
            returned = await raw.fetch(_PG_INSERT, APPEND_LOCK, stream_id, recorded_at, batch)
        except asyncpg.UniqueViolationError:
            raise _Race from None
        positions = {r[0]: r[1] for r in returned}
        return self._result(stream_id, rows, [positions[row[1]] for row in rows], recorded_at)

    async def _sqlite_append(self, stream_id: str, events: Sequence[NewEvent], expected: int | None) -> AppendResult:
        """Inline when the write lock is free (see `_inline_write`); otherwise the whole
        transaction in one trip to an aiosqlite connection's thread, which waits for the
        lock there (see `_pooled` and db._reset for why a bare pooled connection)."""
        recorded_at = ensure_utc(self.clock())
        written = self._inline_write(stream_id, events, expected, recorded_at) if self._inline_file else None
        if written is not None:
            return self._result(stream_id, *written, recorded_at)
        async with self._pooled() as raw:
            rows, positions = await raw._execute(_sqlite_write, raw._conn, stream_id, events, expected, recorded_at)
        return self._result(stream_id, rows, positions, recorded_at)

    def _inline_write(
        self, stream_id: str, events: Sequence[NewEvent], expected: int | None, recorded_at: datetime
    ) -> tuple[list[Row], list[int]] | None:
        """The append on the event loop's own thread, on the store's own sqlite3
        connection, which never waits for the write lock (timeout 0): None if another
        connection holds it. A SQLite append of a few rows takes less time than the trip
        to a connection thread and back (measured: ~0.3 ms waking the loop after the
        thread, plus pool checkout and return), and a transaction that cannot wait and
        never yields blocks neither the loop for long nor any other writer."""
        db = self._inline
        try:
            if db is None:
                db = self._inline = _open_inline(self._inline_file)
            return _sqlite_write(db, stream_id, events, expected, recorded_at)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY and not (db and db.in_transaction):
                return None
            self._close_inline()
            raise
        except sqlite3.ProgrammingError:  # used from another thread than the one that opened it
            self._inline_file = None
            return None
        except (_Race, _Conflict):
            raise
        except BaseException:
            if db is not None and db.in_transaction:
                self._close_inline()
            raise

    def _close_inline(self) -> None:
        if self._inline is not None:
            with contextlib.suppress(sqlite3.Error):
                self._inline.close()
            self._inline = None

    async def close(self) -> None:
        """Release what the store holds besides the engine's pool."""
        self._close_inline()

    @staticmethod
    def _result(stream_id: str, rows: list[Row], positions: list[int], recorded_at: datetime) -> AppendResult:
        def stored() -> tuple[StoredEvent, ...]:
            validate = StoredEvent.model_validate  # pydantic-core on ready-made values: cheaper than model_construct
            return tuple(
                validate(
                    {
                        "id": e.id, "type": e.type, "schema_version": e.schema_version, "occurred_at": e.occurred_at,
                        "source": e.source, "actor": e.actor, "correlation_id": e.correlation_id,
                        "causation_id": e.causation_id, "data": e.data, "stream_id": stream_id, "version": v,
                        "position": pos, "recorded_at": recorded_at, "prev_hash": prev, "hash": digest,
                    }
                )
                for (e, v, prev, digest, *_), pos in zip(rows, positions, strict=True)
            )

        return AppendResult(stream_id, rows[-1][1], positions[-1], stored)

    async def _replay_or_none(self, stream_id: str, events: Sequence[NewEvent]) -> AppendResult | None:
        async with self.read_engine.connect() as conn:
            stored = await self._find(conn, events)
        return self._replayed(stream_id, events, stored) if stored else None

    # -- portable path (any SQLAlchemy async driver) --------------------------------------

    async def _append_portable(
        self, stream_id: str, events: Sequence[NewEvent], expected: int | None
    ) -> AppendResult:
        async with self.engine.begin() as conn:
            await self._lock(conn)
            return await self._append_locked(conn, stream_id, events, expected)

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

    async def _already_stored(
        self, stream_id: str, events: Sequence[NewEvent], expected: int | None = None
    ) -> AppendResult:
        async with self.read_engine.connect() as conn:
            stored = await self._find(conn, events)
        if not stored:
            # a unique (stream, version) race without the lock: report it as a conflict
            actual = await self.stream_version(stream_id)
            raise ConcurrencyConflict(stream_id, -1 if expected is None else expected, actual)
        return self._replayed(stream_id, events, stored)

    @staticmethod
    def _replayed(stream_id: str, events: Sequence[NewEvent], stored: list[StoredEvent]) -> AppendResult:
        if len(stored) != len(events) or any(s.stream_id != stream_id for s in stored):
            raise DuplicateEventId(f"event ids {[str(e.id) for e in events]} partly stored elsewhere")
        return AppendResult(stream_id, stored[-1].version, stored[-1].position, tuple(stored), True)

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, until_position: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        query = (
            select(t)
            .where(t.c.stream_id == stream_id, t.c.version >= from_version)
            .order_by(t.c.version)
        )
        if until_position is not None:
            query = query.where(t.c.position <= until_position)
        if as_of is not None:
            query = query.where(t.c.recorded_at <= ensure_utc(as_of))
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


class _Conflict(Exception):
    """Internal: the stream is not at the expected version (checked before writing)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(expected, actual)
        self.expected, self.actual = expected, actual


def _sqlite_rows(
    head: Any, stream_id: str, events: Sequence[NewEvent], expected: int | None, recorded_at: datetime
) -> tuple[list[Row], list[int], list[tuple[Any, ...]]]:
    """Rows, positions and insert parameters after the head (log position, version, hash)."""
    head_position, version, prev_hash = head
    version, prev_hash = (version, prev_hash) if version is not None else (0, GENESIS_HASH)
    if expected is not None and expected != version:
        raise _Conflict(expected, version)
    rows, _ = prepare_batch(stream_id, events, version, prev_hash, recorded_at, as_json=False)
    recorded = _sqlite_time(recorded_at)
    positions = list(range(head_position + 1, head_position + 1 + len(rows)))
    params = [
        (
            pos, e.id.hex, stream_id, v, e.type, e.schema_version, _sqlite_stamp(occurred), recorded, e.source,
            e.actor, e.correlation_id.hex, e.causation_id.hex if e.causation_id else None, data, prev, digest,
        )
        for pos, (e, v, prev, digest, data, occurred) in zip(positions, rows, strict=True)
    ]
    return rows, positions, params


def _open_inline(path: str | None) -> sqlite3.Connection:
    db = sqlite3.connect(path or "", timeout=0, isolation_level=None)
    try:
        for pragma in SQLITE_PRAGMAS:
            db.execute(pragma)
    except BaseException:
        db.close()
        raise
    return db


def _sqlite_write(
    db: sqlite3.Connection, stream_id: str, events: Sequence[NewEvent], expected: int | None, recorded_at: datetime
) -> tuple[list[Row], list[int]]:
    """The whole SQLite append in one call: BEGIN IMMEDIATE (the write lock) .. COMMIT."""
    db.execute("BEGIN IMMEDIATE")
    try:
        head = db.execute(_SQLITE_HEAD, (stream_id,)).fetchone()
        rows, positions, params = _sqlite_rows(head, stream_id, events, expected, recorded_at)
        try:
            db.executemany(_SQLITE_INSERT, params)
        except sqlite3.IntegrityError:
            raise _Race from None
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return rows, positions


def _sqlite_time(moment: datetime) -> str:
    """What SQLAlchemy's UTCDateTime stores on SQLite: naive UTC, microseconds always."""
    return _sqlite_stamp(iso_utc(moment))


def _sqlite_stamp(iso_utc: str) -> str:
    """`_sqlite_time` from the ISO form of a UTC moment ("...T08:00:00[.ffffff]+00:00"),
    which the hash needs anyway: slicing is cheaper than formatting twice."""
    core = iso_utc[:-6]
    return f"{core[:10]} {core[11:]}" if len(core) == 26 else f"{core[:10]} {core[11:]}.000000"


def _broken(raw: Any, kind: str | None, exc: BaseException) -> bool:
    """Whether a driver connection we may have left mid-transaction or mid-protocol must
    not be pooled again."""
    if isinstance(exc, asyncio.CancelledError) or not isinstance(exc, Exception):
        return True
    if kind == "pg" and isinstance(exc, _PG_DISCONNECTED):
        return True  # may look open and idle (asyncpg's error state) but will never work again
    try:
        return bool(raw.is_closed() or raw.is_in_transaction()) if kind == "pg" else bool(raw.in_transaction)
    except Exception:
        return True


def _to_event(row: RowMapping) -> StoredEvent:
    return StoredEvent.model_validate(dict(row))


def _is_disconnect(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated) or "connect" in str(exc).lower()
