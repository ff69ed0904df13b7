"""Fee standards are kept in a table settlement owns, append-only, not as events.

Why a table: a fee standard is reference data of one service, not part of any order's
history; no other service reacts to it, so putting it on the order topic would only add
noise for every consumer. Nothing is lost by it: rows are never updated or deleted (a
change is a new version with its own id, effective date, author and time), and every
`order.settled` event carries the `standard_id` and the priced lines themselves, so a
settlement is explained by its event alone and a rebuild of the ledger never reads this
table. The table is NOT a projection: a projection reset must never drop it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Column, Date, Integer, MetaData, String, Table, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import Clock
from libs.events.db import reader
from libs.events.schema import UTCDateTime
from services.settlement.domain.standards import ANY_PROVIDER, FeeStandard, FeeStandardCreate, in_force

owned = MetaData()

fee_standards = Table(
    "settlement_fee_standards",
    owned,
    Column("standard_id", String(250), primary_key=True),
    Column("maker", String(100), nullable=False, index=True),
    Column("provider_id", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("body", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    UniqueConstraint("maker", "provider_id", "seq", name="uq_settlement_standard_seq"),
)


class StandardRace(Exception):
    """Two versions of one maker/provider standard were recorded at once; retry."""


async def add_standard(engine: AsyncEngine, body: FeeStandardCreate, clock: Clock, actor: str) -> FeeStandard:
    """Record a new version; its id is `maker:provider:vN`."""
    t = fee_standards
    try:
        async with engine.begin() as conn:
            same = (t.c.maker == body.maker, t.c.provider_id == body.provider_id)
            last = (await conn.execute(select(func.coalesce(func.max(t.c.seq), 0)).where(*same))).scalar_one()
            seq = int(last) + 1
            standard = FeeStandard(
                **body.model_dump(), standard_id=f"{body.maker}:{body.provider_id}:v{seq}", seq=seq,
                recorded_at=clock(), recorded_by=actor,
            )
            await conn.execute(t.insert().values(**_row(standard)))
    except IntegrityError:
        raise StandardRace(f"another version of {body.maker}:{body.provider_id} was recorded meanwhile") from None
    return standard


def _row(standard: FeeStandard) -> dict[str, Any]:
    return {
        "standard_id": standard.standard_id, "maker": standard.maker, "provider_id": standard.provider_id,
        "seq": standard.seq, "effective_from": standard.effective_from, "kind": standard.kind,
        "body": standard.model_dump(mode="json"), "recorded_at": standard.recorded_at, "recorded_by": standard.recorded_by,
    }


async def load_standards(engine: AsyncEngine, maker: str | None = None, provider_id: str | None = None) -> list[FeeStandard]:
    """Every version, oldest first (optionally of one maker and, with the maker-wide ones, one provider)."""
    t = fee_standards
    query = select(t.c.body).order_by(t.c.maker, t.c.provider_id, t.c.seq)
    if maker is not None:
        query = query.where(t.c.maker == maker)
    if provider_id is not None:
        query = query.where(t.c.provider_id.in_([provider_id, ANY_PROVIDER]))
    async with reader(engine).connect() as conn:
        return [FeeStandard.model_validate(r[0]) for r in await conn.execute(query)]


async def standard_in_force(engine: AsyncEngine, maker: str, provider_id: str, day: date) -> FeeStandard | None:
    return in_force(await load_standards(engine, maker, provider_id), maker, provider_id, day)


async def find_standard(engine: AsyncEngine, standard_id: str) -> FeeStandard | None:
    async with reader(engine).connect() as conn:
        row = (await conn.execute(select(fee_standards.c.body).where(fee_standards.c.standard_id == standard_id))).first()
    return FeeStandard.model_validate(row[0]) if row else None
