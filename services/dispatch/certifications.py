"""Certified technicians: the use cases (certify, revoke, the check dispatch runs), the
`dispatch_certifications` read model and its reads. The rules are in domain/certification.py.

Dispatch decides from the technician's own stream (a revocation counts at once, whatever the
read model's lag); routing suggestions and lists read the read model. Rows hold only facts
from events; whether a certification holds is computed at read time from the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Date, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.catalog import CertificationRevoked, TechnicianCertified
from libs.events.chinatime import local_day
from libs.events.command import Committed, execute, fold
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert
from libs.events.store import EventStore
from libs.web.runtime import Runtime
from services.dispatch.domain.certification import (
    DECIDER,
    Certifications,
    Certify,
    Revoke,
    certification_stream,
    check_certified,
)
from services.dispatch.domain.order import State
from services.dispatch.domain.sla import SlaPolicy

SOURCE = "dispatch"
metadata = MetaData()

certifications = Table(
    "dispatch_certifications",
    metadata,
    Column("maker", String(100), primary_key=True),
    Column("outlet_id", String(100), primary_key=True),
    Column("technician_id", String(100), primary_key=True),
    Column("category", String(100), primary_key=True),
    Column("provider_id", String(100), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("certificate_no", String(100), nullable=False),
    Column("certified_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("revoke_reason", String(500)),
)

KEY = ("maker", "outlet_id", "technician_id", "category")


async def on_certified(conn: AsyncConnection, event: StoredEvent, data: TechnicianCertified) -> None:
    await upsert(conn, certifications, [{
        "maker": data.maker, "outlet_id": data.outlet_id, "technician_id": data.technician_id,
        "category": data.category, "provider_id": data.provider_id, "valid_until": data.valid_until,
        "certificate_no": data.certificate_no, "certified_at": event.occurred_at, "revoked_at": None,
        "revoke_reason": None,
    }], KEY)


async def on_revoked(conn: AsyncConnection, event: StoredEvent, data: CertificationRevoked) -> None:
    c = certifications.c
    await conn.execute(certifications.update().where(
        c.maker == data.maker, c.outlet_id == data.outlet_id, c.technician_id == data.technician_id,
        c.category == data.category).values(revoked_at=event.occurred_at, revoke_reason=data.reason))


PROJECTION = Projection("dispatch_certifications", metadata, {
    "technician.certified": on_certified,
    "certification.revoked": on_revoked,
})


# ---- use cases ----------------------------------------------------------------------------


async def load(store: EventStore, maker: str, outlet_id: str, technician_id: str) -> Certifications:
    stream = certification_stream(maker, outlet_id, technician_id)
    return fold(DECIDER, stream, await store.read_stream(stream))


async def certify(runtime: Runtime, certification: TechnicianCertified, actor: str,
                  correlation_id: UUID | None = None) -> Committed[Certifications]:
    stream = certification_stream(certification.maker, certification.outlet_id, certification.technician_id)
    return await execute(runtime.store, stream, DECIDER, Certify(certification, runtime.clock()), actor,
                         source=SOURCE, now=runtime.clock, correlation_id=correlation_id)


async def revoke(runtime: Runtime, revocation: CertificationRevoked, actor: str,
                 correlation_id: UUID | None = None) -> Committed[Certifications]:
    stream = certification_stream(revocation.maker, revocation.outlet_id, revocation.technician_id)
    return await execute(runtime.store, stream, DECIDER, Revoke(revocation), actor,
                         source=SOURCE, now=runtime.clock, correlation_id=correlation_id)


async def check_dispatchable(store: EventStore, state: State, policy: SlaPolicy, outlet_id: str,
                             technician_id: str, at: datetime) -> None:
    """Under the maker's `certified_only` policy, refuse (422 technician_id) a technician not
    certified for the order's category on the day of `at`."""
    if not policy.certified_only or not state.category:
        return
    held = await load(store, state.maker, outlet_id, technician_id)
    check_certified(held.valid, technician_id, state.category, at)


# ---- reads -------------------------------------------------------------------------------


async def certified_now(engine: AsyncEngine, maker: str, category: str, at: datetime) -> frozenset[tuple[str, str]]:
    """(outlet, technician) pairs certified for the category on the China day of `at`."""
    c = certifications.c
    query = select(c.outlet_id, c.technician_id).where(
        c.maker == maker, c.category == category, c.revoked_at.is_(None), c.valid_until >= local_day(at))
    async with reader(engine).connect() as conn:
        return frozenset((r[0], r[1]) for r in (await conn.execute(query)).all())


def status(row: Any, today: date) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    return "valid" if row["valid_until"] >= today else "expired"


async def listing(engine: AsyncEngine, makers: Sequence[str] | None, provider: str | None, at: datetime,
                  outlet_id: str | None = None, expiring_within_days: int | None = None) -> list[dict[str, Any]]:
    """Certifications of the caller's makers (or provider), each with its status on the China day of `at`."""
    c, today = certifications.c, local_day(at)
    query = select(certifications).order_by(c.maker, c.outlet_id, c.technician_id, c.category)
    if makers is not None:
        query = query.where(c.maker.in_(makers))
    if provider is not None:
        query = query.where(c.provider_id == provider)
    if outlet_id is not None:
        query = query.where(c.outlet_id == outlet_id)
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    out = []
    for row in rows:
        days_left = (row["valid_until"] - today).days
        if expiring_within_days is not None and not (status(row, today) == "valid" and days_left <= expiring_within_days):
            continue
        out.append({**dict(row), "status": status(row, today), "days_left": days_left})
    return out
