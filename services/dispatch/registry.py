"""Dispatch's own master data: the outlet registry (服务网点档案) and the makers' SLA policies.

Why owned tables and not events: an outlet record or a policy is reference data about
the service network, not part of any order's history. Every order event that depends
on it copies what it needs (outlet, provider, technician, SLA due time, calendar), so
an order's history stays complete on its own and no read model has to replay outlet
edits. The tables are not projections: a projection rebuild never touches them.

- outlets carry a `version`; an update names the version it read (optimistic
  concurrency, a stale write is a 409), and `updated_at`/`updated_by` say who changed it;
- policies are append-only and effective-dated: setting one adds version n+1 in force
  from that moment. An order is measured with the policy in force when it was recorded,
  so the queue projection reads the same policy on every rebuild (determinism).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.db import reader
from libs.events.schema import UTCDateTime
from services.dispatch.domain.routing import Area, Outlet, Technician
from services.dispatch.domain.sla import DEFAULT_POLICY, BusinessCalendar, SlaPolicy

metadata = MetaData()

outlets = Table(
    "dispatch_outlets",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("capacity_per_day", Integer, nullable=False),
    Column("contact", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("areas", JSON, nullable=False),
    Column("technicians", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

policies = Table(
    "dispatch_sla_policies",
    metadata,
    Column("maker", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("effective_from", UTCDateTime, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("set_by", String(200), nullable=False),
)


class StaleWrite(Exception):
    """The record changed since the writer read it."""


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


# ---- outlets ----------------------------------------------------------------------------


def outlet_to_row(outlet: Outlet) -> dict[str, Any]:
    return {
        "id": outlet.id, "name": outlet.name, "provider_id": outlet.provider_id,
        "capacity_per_day": outlet.capacity_per_day, "contact": outlet.contact, "active": outlet.active,
        "areas": [{"city": a.city, "county": a.county} for a in outlet.areas],
        "technicians": [{"id": t.id, "name": t.name, "skills": sorted(t.skills), "phone": t.phone}
                        for t in outlet.technicians],
    }


def outlet_from_row(row: Any) -> Outlet:
    return Outlet(
        id=row["id"], name=row["name"], provider_id=row["provider_id"], capacity_per_day=row["capacity_per_day"],
        contact=row["contact"], active=row["active"],
        areas=tuple(Area(a["city"], a["county"]) for a in row["areas"]),
        technicians=tuple(Technician(t["id"], t["name"], frozenset(t["skills"]), t["phone"]) for t in row["technicians"]),
    )


async def get_outlet(engine: AsyncEngine, outlet_id: str) -> tuple[Outlet, int] | None:
    async with reader(engine).connect() as conn:
        row = (await conn.execute(select(outlets).where(outlets.c.id == outlet_id))).mappings().first()
    return (outlet_from_row(row), int(row["version"])) if row else None


async def list_outlets(engine: AsyncEngine) -> list[tuple[Outlet, int]]:
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(select(outlets).order_by(outlets.c.id))).mappings().all()
    return [(outlet_from_row(r), int(r["version"])) for r in rows]


async def save_outlet(
    engine: AsyncEngine, outlet: Outlet, expected_version: int, *, actor: str, now: datetime
) -> int:
    """Insert (expected 0) or update (expected = the version read); returns the new version."""
    values = {**outlet_to_row(outlet), "version": expected_version + 1, "updated_at": now, "updated_by": actor}
    async with engine.begin() as conn:
        if expected_version == 0:
            found = (await conn.execute(select(outlets.c.version).where(outlets.c.id == outlet.id))).first()
            if found is not None:
                raise StaleWrite(f"outlet {outlet.id} already exists (version {found[0]})")
            await conn.execute(insert(outlets).values(**values))
        else:
            stmt = update(outlets).where(outlets.c.id == outlet.id, outlets.c.version == expected_version)
            if (await conn.execute(stmt.values(**values))).rowcount != 1:
                raise StaleWrite(f"outlet {outlet.id} is not at version {expected_version}")
    return expected_version + 1


# ---- SLA policies -----------------------------------------------------------------------


def policy_to_json(policy: SlaPolicy) -> dict[str, Any]:
    cal = policy.calendar
    return {
        "complaint_response_hours": policy.complaint_response_hours,
        "on_site_capital_hours": policy.on_site_capital_hours,
        "on_site_other_hours": policy.on_site_other_hours,
        "at_risk_fraction": policy.at_risk_fraction,
        "calendar": None if cal is None else {
            "tz": cal.tz, "opens": cal.opens.isoformat(), "closes": cal.closes.isoformat(),
            "weekdays": sorted(cal.weekdays), "holidays": sorted(d.isoformat() for d in cal.holidays),
            "workdays": sorted(d.isoformat() for d in cal.workdays),
        },
    }


def policy_from_json(data: dict[str, Any], *, maker: str, version: int) -> SlaPolicy:
    cal = data.get("calendar")
    calendar = None if cal is None else BusinessCalendar(
        tz=cal["tz"], opens=time.fromisoformat(cal["opens"]), closes=time.fromisoformat(cal["closes"]),
        weekdays=frozenset(cal["weekdays"]), holidays=frozenset(date.fromisoformat(d) for d in cal["holidays"]),
        workdays=frozenset(date.fromisoformat(d) for d in cal["workdays"]),
    )
    return SlaPolicy(
        complaint_response_hours=data["complaint_response_hours"], on_site_capital_hours=data["on_site_capital_hours"],
        on_site_other_hours=data["on_site_other_hours"], at_risk_fraction=data["at_risk_fraction"],
        calendar=calendar, version=version, maker=maker,
    )


async def policy_at(conn: AsyncConnection, maker: str, moment: datetime) -> SlaPolicy:
    """The maker's policy in force at `moment` (the seed default when it has set none)."""
    row = (
        await conn.execute(
            select(policies.c.version, policies.c.definition)
            .where(policies.c.maker == maker, policies.c.effective_from <= moment)
            .order_by(policies.c.version.desc())
            .limit(1)
        )
    ).first()
    return policy_from_json(row[1], maker=maker, version=row[0]) if row else DEFAULT_POLICY


async def policy_version(conn: AsyncConnection, maker: str, version: int) -> SlaPolicy:
    """One stored version (0 = the default)."""
    if version == 0:
        return DEFAULT_POLICY
    row = (
        await conn.execute(
            select(policies.c.definition).where(and_(policies.c.maker == maker, policies.c.version == version))
        )
    ).first()
    return policy_from_json(row[0], maker=maker, version=version) if row else DEFAULT_POLICY


async def set_policy(engine: AsyncEngine, maker: str, policy: SlaPolicy, *, actor: str, now: datetime) -> int:
    """Add the maker's next policy version, in force from `now`; returns the version."""
    async with engine.begin() as conn:
        current = (await conn.execute(select(func.max(policies.c.version)).where(policies.c.maker == maker))).scalar()
        version = int(current or 0) + 1
        await conn.execute(insert(policies).values(
            maker=maker, version=version, effective_from=now, definition=policy_to_json(policy), set_by=actor,
        ))
    return version
