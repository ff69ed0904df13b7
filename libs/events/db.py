"""Engines for both backends, set up the way the store needs them, and migrations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_351_001


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_size", 20)  # an API process at concurrency 16 churns no overflow connections
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_recycle", 300)
    ping_idle = not kwargs.get("pool_pre_ping", False)
    engine = create_async_engine(url, **kwargs)
    if ping_idle:
        _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Replace a dead connection at checkout, pinging only one that sat in the pool a while.

    SQLAlchemy's pool_pre_ping pings at every checkout: a round trip per request or
    append, ~15% of append throughput. Instead:
    - a connection whose socket the server already closed (a restart, a terminated
      backend) is known dead without any I/O: it and every older one are replaced;
    - one that sat idle for IDLE_PING_SECONDS is pinged and, if dead, replaced;
    - one in steady use has just proven itself. If it dies while in use, that use fails:
      SQLAlchemy then invalidates the whole pool, and the store retries an append once.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if _closed(record.driver_connection):
            raise InvalidatePoolError("the server closed this pooled connection")
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"idle connection is dead: {exc}") from exc


def _closed(driver_connection: Any) -> bool:
    """Whether the driver already saw the socket close (asyncpg: no I/O, just its state)."""
    is_closed = getattr(driver_connection, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The database file of a SQLite engine (None for in-memory or URI-configured ones)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.query or url.database in (None, "", ":memory:"):
        return None
    return url.database


def _sqlite_engine(url: str, **kwargs: Any) -> AsyncEngine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("pool_reset_on_return", None)  # see _reset below
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_conn: Any, record: Any, state: PoolResetState) -> None:
        # A connection going back to the pool is rolled back only if a transaction is
        # really open: SQLAlchemy's unconditional rollback costs a trip to aiosqlite's
        # thread per checkout, which was a tenth of an event append. (Connections used
        # through SQLAlchemy end their own transactions; this catches driver-level use.)
        if state.asyncio_safe and not state.transaction_was_reset and record.driver_connection.in_transaction:
            dbapi_conn.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN (IMMEDIATE), so they queue instead of
        # failing on upgrade; readers (see `reader`) begin deferred and never block.
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, marked read-only: on SQLite its transactions do not take the write lock."""
    return engine.execution_options(readonly=True)


async def migrate(engine: AsyncEngine) -> None:
    """Bring the event-store schema to head (safe when several processes start at once)."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


async def downgrade(engine: AsyncEngine, revision: str = "-1") -> None:
    """Take the schema back to `revision` ("-1": one step; "base": nothing). It drops tables
    with their rows: for undoing a release, after a backup."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.downgrade(_config(sync), revision))


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: not under migrations yet)."""
    from alembic.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def migration_command(argv: list[str], database_url: str) -> str:
    """`python -m libs.events migrate` | `downgrade [revision]`: run it, say where it left the schema."""
    import asyncio

    async def run() -> str:
        engine = create_engine(database_url)
        try:
            if argv[0] == "migrate":
                await migrate(engine)
            else:
                await downgrade(engine, argv[1] if len(argv) > 1 else "-1")
            return f"schema at revision {await schema_revision(engine) or 'base (empty)'}"
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _upgrade(conn: Connection) -> None:
    command.upgrade(_config(conn), "head")
