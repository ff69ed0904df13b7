"""The key table: the only place data keys exist, and a bounded cache in front of it.

Creation is first use, race-free on both backends: INSERT … ON CONFLICT DO NOTHING on the
(subject, version) primary key, then read the row back, so two writers creating the same
subject's key both end up with the one that was committed first.

A subject whose keys were erased and who then reports again (the same phone, the same
maker) gets a new key version: their new orders are readable, the erased ones stay erased.

The cache keeps AESGCM objects (building one is a key schedule) per (subject, version):
- an erased key is cached for ever (erasure is final, a rebuild sees it the same way);
- a live key for `ttl` seconds, so another process's erasure reaches this one within ttl
  (this process's own erasure invalidates at once);
- at most `size` entries, least recently used go first.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.db import reader
from libs.events.personal import crypto
from libs.events.personal.errors import MissingKey
from libs.events.personal.tables import subject_erasures, subject_keys
from libs.events.sqlutil import upsert

ERASED: None = None  # what the cache and key_for hold for an erased key


@dataclass(frozen=True)
class Erasure:
    """The erasure record as stored: who, when, which subject, why, how many keys."""

    id: uuid.UUID
    subject_id: str
    actor: str
    reason: str
    keys_destroyed: int
    erased_at: datetime


class KeyCache:
    """Bounded LRU of (subject, version) -> AESGCM | ERASED with a TTL on live keys."""

    def __init__(self, size: int = 50_000, ttl: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self._now = size, ttl, monotonic
        self._items: OrderedDict[tuple[str, int], tuple[AESGCM | None, float]] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, subject: str, version: int) -> tuple[bool, AESGCM | None]:
        """(found, key); found=False means ask the table."""
        item = self._items.get((subject, version))
        if item is None or (item[0] is not None and self._now() - item[1] > self.ttl):
            self.misses += 1
            return False, None
        self._items.move_to_end((subject, version))
        self.hits += 1
        return True, item[0]

    def put(self, subject: str, version: int, key: AESGCM | None) -> None:
        self._items[(subject, version)] = (key, self._now())
        self._items.move_to_end((subject, version))
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def forget(self, subject: str) -> None:
        for cached in [k for k in self._items if k[0] == subject]:
            del self._items[cached]

    def __len__(self) -> int:
        return len(self._items)


class KeyTable:
    """Data keys per subject in `subject_keys`, optionally wrapped by a master key."""

    def __init__(self, engine: AsyncEngine, clock: Clock = system_clock, *,
                 master_key: bytes | None = None, cache: KeyCache | None = None) -> None:
        self.engine, self.clock = engine, clock
        self._master = AESGCM(master_key) if master_key is not None else None
        self.cache = cache if cache is not None else KeyCache()
        self._current: dict[str, int] = {}  # subject -> its live version, for sealing

    async def current(self, subject: str) -> tuple[int, AESGCM]:
        """The subject's live key (created if it has none, or only erased ones)."""
        version = self._current.get(subject)
        if version is not None:
            found, key = self.cache.get(subject, version)
            if found and key is not None:
                return version, key
        async with self.engine.begin() as conn:
            latest = (await conn.execute(
                select(subject_keys.c.version, subject_keys.c.key, subject_keys.c.wrapped)
                .where(subject_keys.c.subject_id == subject)
                .order_by(subject_keys.c.version.desc()).limit(1)
            )).first()
            if latest is not None and latest.key is not None:
                version, key = latest.version, self._aead(subject, latest.version, latest.key,
                                                          latest.wrapped)
            else:
                version = 1 if latest is None else latest.version + 1
                key = await self._create(conn, subject, version)
        self.cache.put(subject, version, key)
        self._current[subject] = version
        return version, key

    async def _create(self, conn: AsyncConnection, subject: str, version: int) -> AESGCM:
        raw = crypto.new_key()
        stored = (crypto.b64e(raw) if self._master is None
                  else crypto.wrap_key(self._master, subject, version, raw))
        row = {"subject_id": subject, "version": version, "key": stored,
               "wrapped": self._master is not None, "created_at": self.clock(), "erased_at": None}
        await upsert(conn, subject_keys, [row], ["subject_id", "version"], update=[])
        won = (await conn.execute(
            select(subject_keys.c.key, subject_keys.c.wrapped).where(
                subject_keys.c.subject_id == subject, subject_keys.c.version == version)
        )).one()
        if won.key is None:  # erased between our insert attempt and now: make the next one
            raise MissingKey(f"key v{version} of {subject} was erased while being created")
        return self._aead(subject, version, won.key, won.wrapped)

    async def key_for(self, subject: str, version: int) -> AESGCM | None:
        """The key that sealed an envelope, or ERASED; MissingKey if it never existed."""
        found, key = self.cache.get(subject, version)
        if found:
            return key
        async with reader(self.engine).connect() as conn:
            row = (await conn.execute(
                select(subject_keys.c.key, subject_keys.c.wrapped).where(
                    subject_keys.c.subject_id == subject, subject_keys.c.version == version)
            )).first()
        if row is None:
            raise MissingKey(f"no key v{version} for subject {subject} in this key table")
        key = None if row.key is None else self._aead(subject, version, row.key, row.wrapped)
        self.cache.put(subject, version, key)
        return key

    async def prefetch(self, wanted: set[tuple[str, int]]) -> None:
        """Load the uncached keys of many (subject, version) pairs in one query: a
        projection catching up calls it per page instead of one round trip per key."""
        missing = [pair for pair in wanted if not self.cache.get(*pair)[0]]
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            async with reader(self.engine).connect() as conn:
                rows = (await conn.execute(
                    select(subject_keys.c.subject_id, subject_keys.c.version, subject_keys.c.key,
                           subject_keys.c.wrapped)
                    .where(tuple_(subject_keys.c.subject_id, subject_keys.c.version).in_(chunk))
                )).all()
            for row in rows:
                key = (None if row.key is None
                       else self._aead(row.subject_id, row.version, row.key, row.wrapped))
                self.cache.put(row.subject_id, row.version, key)

    async def erase(self, subject: str, actor: str, reason: str) -> Erasure:
        """Destroy every key of the subject and record who did it and why, atomically."""
        if not actor.strip() or not reason.strip():
            raise ValueError("an erasure names its actor and its reason")
        now = self.clock()
        record = Erasure(uuid.uuid4(), subject, actor, reason, 0, now)
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(subject_keys)
                .where(and_(subject_keys.c.subject_id == subject, subject_keys.c.key.is_not(None)))
                .values(key=None, erased_at=now)
            )
            record = Erasure(record.id, subject, actor, reason, done.rowcount or 0, now)
            await conn.execute(subject_erasures.insert().values(
                id=record.id, subject_id=subject, actor=actor, reason=reason,
                keys_destroyed=record.keys_destroyed, erased_at=now,
            ))
        self.cache.forget(subject)
        self._current.pop(subject, None)
        return record

    async def erasures(self, subject: str | None = None) -> list[Erasure]:
        query = select(subject_erasures).order_by(subject_erasures.c.erased_at)
        if subject is not None:
            query = query.where(subject_erasures.c.subject_id == subject)
        async with reader(self.engine).connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [Erasure(**row) for row in rows]

    async def is_erased(self, subject: str) -> bool:
        """True when the subject had keys and none of them is live any more."""
        async with reader(self.engine).connect() as conn:
            live, total = (await conn.execute(
                select(func.count(subject_keys.c.key), func.count())
                .where(subject_keys.c.subject_id == subject)
            )).one()
        return total > 0 and live == 0

    def _aead(self, subject: str, version: int, stored: str, wrapped: bool) -> AESGCM:
        if not wrapped:
            return AESGCM(crypto.b64d(stored))
        if self._master is None:
            raise MissingKey(f"key v{version} of {subject} is wrapped: the master key is not set")
        return AESGCM(crypto.unwrap_key(self._master, subject, version, stored))
