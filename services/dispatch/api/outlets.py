"""The outlet registry (服务网点档案) and the makers' SLA policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from libs.events.db import reader
from libs.web.auth import Principal
from libs.web.consistency import read_model_at
from libs.web.deps import RuntimeDep, require
from libs.web.problems import Conflict, NotFound, Unprocessable
from libs.web.scoping import maker_or_404, provider_scope
from services.dispatch import reference
from services.dispatch.api.schemas import OutletCreate, OutletPublic, OutletUpdate, PolicyIn, PolicyPublic
from services.dispatch.domain import BusinessCalendar, CalendarError, SlaPolicy
from services.dispatch.domain.routing import Area, Outlet, Technician
from services.dispatch.projection import PROJECTION

router = APIRouter(prefix="/dispatch", tags=["dispatch: outlets and SLA policies"])
READ_MODEL = read_model_at(PROJECTION.name)  # min_position: read-your-writes

Manager = Annotated[Principal, Depends(require("dispatcher", "admin"))]
Reader = Annotated[Principal, Depends(
    require("dispatcher", "supervisor", "provider", "technician", "admin"))]
PolicySetter = Annotated[Principal, Depends(require("supervisor", "admin"))]


def _outlet(body: OutletCreate) -> Outlet:
    return Outlet(
        id=body.id, name=body.name, provider_id=body.provider_id, capacity_per_day=body.capacity_per_day,
        contact=body.contact, active=body.active,
        areas=tuple(Area(a.city, a.county) for a in body.areas),
        technicians=tuple(Technician(t.id, t.name, frozenset(t.skills), t.phone) for t in body.technicians),
    )


def _public(outlet: Outlet, version: int, viewer: Principal | None = None) -> OutletPublic:
    """The outlet record; provider staff see the technicians' phones of their own provider only."""
    row = reference.outlet_to_row(outlet)
    confined = None if viewer is None else provider_scope(viewer)
    if confined is not None and outlet.provider_id != confined:
        row = {**row, "technicians": [{**t, "phone": ""} for t in row["technicians"]]}
    return OutletPublic.model_validate({**row, "version": version})


@router.post("/outlets", response_model=OutletPublic, status_code=201)
async def create_outlet(body: OutletCreate, runtime: RuntimeDep, principal: Manager) -> OutletPublic:
    """Register a service outlet with its coverage, technicians and daily capacity."""
    outlet = _outlet(body)
    try:
        version = await reference.save_outlet(runtime.engine, outlet, 0, actor=principal.actor, now=runtime.clock())
    except reference.StaleWrite as exc:
        raise Conflict(str(exc)) from None
    return _public(outlet, version)


@router.put("/outlets/{outlet_id}", response_model=OutletPublic)
async def update_outlet(outlet_id: str, body: OutletUpdate, runtime: RuntimeDep, principal: Manager) -> OutletPublic:
    """Replace an outlet record; `version` must be the one you read."""
    if body.id != outlet_id:
        raise Unprocessable("the body's id differs from the path", errors=[{"field": "id", "message": "must match"}])
    if await reference.get_outlet(runtime.engine, outlet_id) is None:
        raise NotFound(f"outlet {outlet_id} not found")
    outlet = _outlet(body)
    try:
        version = await reference.save_outlet(runtime.engine, outlet, body.version, actor=principal.actor,
                                             now=runtime.clock())
    except reference.StaleWrite as exc:
        raise Conflict(f"{exc}; re-read it and retry") from None
    return _public(outlet, version)


@router.get("/outlets", dependencies=[READ_MODEL], response_model=list[OutletPublic])
async def list_outlets(runtime: RuntimeDep, principal: Reader) -> list[OutletPublic]:
    """Every outlet in the registry."""
    return [_public(o, v, principal) for o, v in await reference.list_outlets(runtime.engine)]


@router.get("/outlets/{outlet_id}", dependencies=[READ_MODEL], response_model=OutletPublic)
async def get_outlet(outlet_id: str, runtime: RuntimeDep, principal: Reader) -> OutletPublic:
    """One outlet record."""
    found = await reference.get_outlet(runtime.engine, outlet_id)
    if found is None:
        raise NotFound(f"outlet {outlet_id} not found")
    return _public(*found, principal)


def _policy_public(policy: SlaPolicy, maker: str) -> PolicyPublic:
    return PolicyPublic.model_validate({**reference.policy_to_json(policy), "maker": maker, "version": policy.version,
                                        "effective_from": policy.effective_from})


@router.put("/sla-policies/{maker}", response_model=PolicyPublic)
async def set_policy(maker: str, body: PolicyIn, runtime: RuntimeDep, principal: PolicySetter) -> PolicyPublic:
    """Set the maker's SLA policy: in force a minute from now, for orders recorded from then on."""
    if principal.role != "admin":
        maker_or_404(principal, maker)
    try:
        calendar = None if body.calendar is None else BusinessCalendar(
            tz=body.calendar.tz, opens=body.calendar.opens, closes=body.calendar.closes,
            weekdays=frozenset(body.calendar.weekdays), holidays=frozenset(body.calendar.holidays),
            workdays=frozenset(body.calendar.workdays),
        )
    except CalendarError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "calendar", "message": str(exc)}]) from None
    policy = SlaPolicy(body.complaint_response_hours, body.on_site_capital_hours, body.on_site_other_hours,
                       calendar, body.at_risk_fraction, maker=maker, certified_only=body.certified_only)
    try:
        stored = await reference.set_policy(runtime.engine, maker, policy, actor=principal.actor, now=runtime.clock())
    except reference.StaleWrite as exc:
        raise Conflict(str(exc)) from None
    return _policy_public(stored, maker)


@router.get("/sla-policies/{maker}", dependencies=[READ_MODEL], response_model=PolicyPublic)
async def get_policy(maker: str, runtime: RuntimeDep, principal: Reader) -> PolicyPublic:
    """The maker's SLA policy in force now (version 0 = the seed's default)."""
    if principal.role != "admin":
        maker_or_404(principal, maker)
    async with reader(runtime.engine).connect() as conn:
        return _policy_public(await reference.policy_at(conn, maker, runtime.clock()), maker)
