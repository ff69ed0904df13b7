"""Event store port and adapters."""

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.store.port import ANY_VERSION, NO_STREAM, AppendResult, EventStore
from libs.events.store.postgres import PostgresEventStore
from libs.events.store.sql import SqlEventStore
from libs.events.store.sqlite import SqliteEventStore


def store_for(engine: AsyncEngine, clock: Clock = system_clock) -> SqlEventStore:
    """The adapter that matches the engine's backend."""
    if engine.dialect.name == "sqlite":
        return SqliteEventStore(engine, clock)
    return PostgresEventStore(engine, clock)


__all__ = [
    "ANY_VERSION",
    "NO_STREAM",
    "AppendResult",
    "EventStore",
    "PostgresEventStore",
    "SqlEventStore",
    "SqliteEventStore",
    "store_for",
]
