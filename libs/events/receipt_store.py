"""Issuing, keeping and checking receipts against the event store (the DB edge of
libs.events.receipts).

Job hooks for the runtime: `issue_due_receipts` at each day change (the day that ended
and, on the 1st, the month that ended), or `issue_day_receipt` / `issue_month_receipt`
directly. All are idempotent per period: a second call, or a second process, returns
the receipt already issued.

A receipt's heads are a consistent cut of the log: the head position is read first and
every stream's head is taken among events at or below it. Commit order is position
order (see store/sql.py), so everything at or below a visible position is committed.
The heads are kept with the receipt (zlib-compressed JSON), bound to it by the root.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    RowMapping,
    Select,
    String,
    Table,
    UniqueConstraint,
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock, system_clock
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.receipts import Receipt, StreamHead, check_stream, issue, verify_receipt_heads
from libs.events.schema import Position, UTCDateTime, metadata
from libs.events.schema import events as ev

receipts = Table(
    "receipts",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("period", String(40), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("head_position", BigInteger, nullable=False),
    Column("stream_count", Integer, nullable=False),
    Column("root", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("heads", LargeBinary, nullable=False),
    UniqueConstraint("kind", "period", name="uq_receipts_period"),
)

VERIFY_CHUNK = 500  # streams read per query when checking a receipt against the store


async def snapshot(engine: AsyncEngine) -> tuple[int, list[StreamHead]]:
    """The log's head position and every stream's head at it."""
    async with reader(engine).connect() as conn:
        head = int(
            (await conn.execute(select(func.coalesce(func.max(ev.c.position), 0)))).scalar_one()
        )
        latest = (
            select(ev.c.stream_id, func.max(ev.c.version).label("version"))
            .where(ev.c.position <= head)
            .group_by(ev.c.stream_id)
            .subquery()
        )
        query = select(ev.c.stream_id, ev.c.version, ev.c.hash).join(
            latest, and_(ev.c.stream_id == latest.c.stream_id, ev.c.version == latest.c.version)
        )
        rows = (await conn.execute(query)).all()
    return head, [StreamHead(s, int(v), h) for s, v, h in rows]


async def issue_receipt(
    engine: AsyncEngine, key: Ed25519PrivateKey, kind: str, period: str, clock: Clock = system_clock
) -> tuple[int, Receipt]:
    """Issue and keep the receipt of `period` (or return the one already issued)."""
    if kind != "adhoc" and (found := await find_receipt(engine, kind, period)) is not None:
        return found
    head, heads = await snapshot(engine)
    made = issue(heads, head, kind, period, clock(), key)
    try:
        async with engine.begin() as conn:
            row = await conn.execute(
                insert(receipts)
                .values(
                    kind=made.kind,
                    period=made.period,
                    issued_at=made.issued_at,
                    head_position=made.head_position,
                    stream_count=made.stream_count,
                    root=made.root,
                    key_id=made.key_id,
                    signature=made.signature,
                    heads=_pack(made.heads),
                )
                .returning(receipts.c.id)
            )
            return int(row.scalar_one()), made
    except IntegrityError:
        found = await find_receipt(engine, kind, period)
        if found is None:
            raise
        return found


async def issue_day_receipt(
    engine: AsyncEngine, key: Ed25519PrivateKey, day: date, clock: Clock = system_clock
) -> tuple[int, Receipt]:
    """Job hook: call at the day change, for the day that just ended."""
    return await issue_receipt(engine, key, "day", day.isoformat(), clock)


async def issue_month_receipt(
    engine: AsyncEngine, key: Ed25519PrivateKey, month: str, clock: Clock = system_clock
) -> tuple[int, Receipt]:
    """Job hook: call when month `YYYY-MM` closes."""
    return await issue_receipt(engine, key, "month", month, clock)


async def issue_due_receipts(
    engine: AsyncEngine, key: Ed25519PrivateKey, clock: Clock = system_clock
) -> list[tuple[int, Receipt]]:
    """Job hook for the day change: the receipt of the UTC day that ended and, on the first
    of a month, of the month that ended. Safe to call again (idempotent per period)."""
    today = clock().astimezone(UTC).date()
    yesterday = today - timedelta(days=1)
    issued = [await issue_day_receipt(engine, key, yesterday, clock)]
    if today.day == 1:
        issued.append(await issue_month_receipt(engine, key, yesterday.strftime("%Y-%m"), clock))
    return issued


async def find_receipt(engine: AsyncEngine, kind: str, period: str) -> tuple[int, Receipt] | None:
    return await _one(
        engine, select(receipts).where(receipts.c.kind == kind, receipts.c.period == period)
    )


async def load_receipt(
    engine: AsyncEngine, receipt_id: int | None = None
) -> tuple[int, Receipt] | None:
    """Receipt `receipt_id`, or the latest one."""
    query = select(receipts)
    query = (
        query.where(receipts.c.id == receipt_id)
        if receipt_id is not None
        else (query.order_by(receipts.c.id.desc()).limit(1))
    )
    return await _one(engine, query)


async def list_receipts(engine: AsyncEngine) -> list[dict[str, object]]:
    columns = [c for c in receipts.c if c.name != "heads"]
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(select(*columns).order_by(receipts.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def verify_stored(
    engine: AsyncEngine, receipt: Receipt, public_key: Ed25519PublicKey, chunk: int = VERIFY_CHUNK
) -> list[str]:
    """`receipts.verify_receipt` against the store as it is now, `chunk` streams at a time
    (so a receipt over 100,000 streams never holds the whole log in memory)."""
    problems = verify_receipt_heads(receipt, public_key)
    for start in range(0, len(receipt.heads), chunk):
        heads = receipt.heads[start : start + chunk]
        found = await _events_of(
            engine, [h.stream_id for h in heads], max(h.version for h in heads)
        )
        for head in heads:
            problems += check_stream(head, found.get(head.stream_id, []))
    return problems


async def _events_of(
    engine: AsyncEngine, stream_ids: Sequence[str], max_version: int
) -> dict[str, list[StoredEvent]]:
    query = (
        select(ev)
        .where(ev.c.stream_id.in_(list(stream_ids)), ev.c.version <= max_version)
        .order_by(ev.c.stream_id, ev.c.version)
    )
    out: dict[str, list[StoredEvent]] = {}
    validate = StoredEvent.model_validate
    async with reader(engine).connect() as conn:
        result = await conn.execute(query)
        keys = list(result.keys())  # once: RowMapping builds its keys anew for every row
        for row in result:
            event = validate(dict(zip(keys, row, strict=True)))
            out.setdefault(event.stream_id, []).append(event)
    return out


async def _one(engine: AsyncEngine, query: Select[Any]) -> tuple[int, Receipt] | None:
    async with reader(engine).connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return (int(row["id"]), _receipt(row)) if row is not None else None


def _receipt(row: RowMapping) -> Receipt:
    return Receipt(
        row["kind"],
        row["period"],
        row["issued_at"],
        int(row["head_position"]),
        int(row["stream_count"]),
        row["root"],
        row["key_id"],
        row["signature"],
        _unpack(row["heads"]),
    )


def _pack(heads: Sequence[StreamHead]) -> bytes:
    return zlib.compress(orjson.dumps([[h.stream_id, h.version, h.hash] for h in heads]), 6)


def _unpack(blob: bytes) -> tuple[StreamHead, ...]:
    return tuple(StreamHead(s, int(v), h) for s, v, h in orjson.loads(zlib.decompress(blob)))
