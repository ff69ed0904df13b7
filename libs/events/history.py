"""History: the store as it stood at a past point, and read models rebuilt to that point.

Two tools, both computed from the events only (never from a copy of a read model):

- `StoreAsOf` is a read-only view of the event store bounded at a global position and/or a
  moment (recorded up to then). A service's own load/fold/view code, run against it,
  answers what it answered then: no second copy of any evolve or view function.
- `rebuild_until` replays one `Projection` up to a position into a scratch SQLite file
  (the projection's tables and the projector's checkpoint tables created there), so the
  service's own queries, pointed at the scratch engine, answer what the read model said
  when the log's head stood at that position. Results are cached per (projection,
  position) in a bounded LRU (`ScratchCache`); an evicted scratch database is deleted.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ensure_utc
from libs.events.db import create_engine
from libs.events.envelope import NewEvent, StoredEvent
from libs.events.projection import Projection, Projector
from libs.events.schema import checkpoints, dead_letters, stream_checkpoints
from libs.events.store.port import AppendResult, EventStore

_POSITION = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True)
class AsOf:
    """A past point: a global position (the log's head then) or a moment (recorded up to it)."""

    position: int | None = None
    moment: datetime | None = None

    @classmethod
    def parse(cls, value: str) -> AsOf:
        """`123` is a position, an ISO 8601 time with an offset a moment; else ValueError."""
        value = value.strip()
        if _POSITION.fullmatch(value):
            return cls(position=int(value))
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("neither a position (digits) nor an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise ValueError("a time needs its UTC offset (e.g. 2026-05-04T09:00:00+08:00)")
        return cls(moment=ensure_utc(moment))


class StoreAsOf(EventStore):
    """The store as it stood at `at`: reads are bounded, appends are refused."""

    def __init__(self, store: EventStore, at: AsOf) -> None:
        self.inner, self.at = store, at

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        raise PermissionError("the past is read-only: StoreAsOf refuses appends")

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        until_position: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        positions = [p for p in (until_position, self.at.position) if p is not None]
        moments = [m for m in (as_of, self.at.moment) if m is not None]
        return await self.inner.read_stream(
            stream_id,
            from_version,
            until_position=min(positions) if positions else None,
            as_of=min(moments) if moments else None,
        )

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        events = await self.inner.read_all(after_position, limit)
        return [e for e in events if self._within(e)]

    def _within(self, event: StoredEvent) -> bool:
        if self.at.position is not None and event.position > self.at.position:
            return False
        return self.at.moment is None or event.recorded_at <= self.at.moment

    async def head_position(self) -> int:
        head = await self.inner.head_position()
        return head if self.at.position is None else min(head, self.at.position)

    async def stream_version(self, stream_id: str) -> int:
        events = await self.read_stream(stream_id)
        return events[-1].version if events else 0


@dataclass
class Scratch:
    """A read model rebuilt to `position` in its own SQLite file."""

    projection: str
    position: int
    engine: AsyncEngine
    directory: Path
    events: int

    async def close(self) -> None:
        await self.engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)


async def rebuild_until(
    store: EventStore,
    projection: Projection,
    position: int,
    batch: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> Scratch:
    """Replay `projection` over the events at positions <= `position` into a new scratch DB."""
    directory = Path(tempfile.mkdtemp(prefix=f"asof-{projection.name}-"))
    engine = create_engine(f"sqlite:///{directory / 'scratch.db'}")
    try:
        async with engine.begin() as conn:
            for table in (checkpoints, stream_checkpoints, dead_letters):
                await conn.run_sync(table.create, checkfirst=True)
        bounded = StoreAsOf(store, AsOf(position=position))
        projector = Projector(engine, projection, bounded)
        await projector.setup()
        count = await projector.rebuild(batch, progress)
    except BaseException:
        await engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return Scratch(projection.name, position, engine, directory, count)


class ScratchCache:
    """Rebuilt read models per (projection, position), at most `size` of them (LRU).

    One rebuild per key even under concurrent requests (a lock per key); the least
    recently used scratch database is closed and deleted when a new one would exceed
    the bound, so disk use stays at `size` copies.
    """

    def __init__(self, store: EventStore, size: int = 4) -> None:
        self.store, self.size = store, max(1, size)
        self._entries: OrderedDict[tuple[str, int], Scratch] = OrderedDict()
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self.rebuilds = 0

    async def get(self, projection: Projection, position: int) -> Scratch:
        key = (projection.name, position)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            scratch = await rebuild_until(self.store, projection, position)
            self.rebuilds += 1
            self._entries[key] = scratch
            while len(self._entries) > self.size:
                _, old = self._entries.popitem(last=False)
                await old.close()
        self._locks.pop(key, None)
        return scratch

    def __len__(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        while self._entries:
            _, old = self._entries.popitem(last=False)
            await old.close()
