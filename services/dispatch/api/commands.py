"""Commands on an order: dispatch, reassign, SLA pause/resume, arrive, repair, answer a complaint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from libs.web.auth import Principal
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.problems import Conflict, Forbidden, NotFound, Unprocessable
from libs.web.runtime import Runtime
from services.dispatch import registry
from services.dispatch.domain import (
    Arrive,
    Assignment,
    Command,
    Dispatch,
    Invalid,
    PauseSla,
    Reassign,
    Refused,
    Repair,
    RespondComplaint,
    ResumeSla,
    SlaPolicy,
    State,
    decide,
)
from services.dispatch.orders import append, load_order, policy_for
from services.dispatch.schemas import (
    Accepted,
    ArriveIn,
    DispatchIn,
    PauseIn,
    ReassignIn,
    RepairIn,
    RespondIn,
    ResumeIn,
)

router = APIRouter(prefix="/dispatch/orders", tags=["dispatch"])

Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
OnSite = Annotated[Principal, Depends(require("technician", "dispatcher"))]
Technician = Annotated[Principal, Depends(require("technician"))]


def unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "message": message}])


def _check_dispatcher(principal: Principal, state: State) -> None:
    """A dispatch desk acts for one maker: it moves that maker's orders only."""
    if principal.role == "dispatcher" and principal.party != state.maker:
        raise Forbidden(f"dispatcher for {principal.party!r} may not move an order of maker {state.maker!r}")


def _check_technician(principal: Principal, state: State) -> None:
    """A technician reports only on orders dispatched to its own provider."""
    if principal.role == "technician" and principal.party != state.provider_id:
        raise Forbidden(f"order {state.order_id} is not dispatched to provider {principal.party!r}")


async def _load(runtime: Runtime, order_id: str) -> State:
    state = await load_order(runtime.store, order_id)
    if state.status == "new":
        raise NotFound(f"order {order_id} not found")
    return state


async def _run(
    runtime: Runtime, order_id: str, principal: Principal, build: Callable[[State, SlaPolicy], Command],
    state: State | None = None,
) -> Accepted:
    """Load the order (unless given), check who acts, decide, append at the version read."""
    state = state or await _load(runtime, order_id)
    _check_dispatcher(principal, state)
    _check_technician(principal, state)
    policy = await policy_for(runtime, state)
    try:
        changes = decide(state, build(state, policy))
    except Refused as exc:
        raise Conflict(str(exc), status_now=state.status) from None
    except Invalid as exc:
        raise unprocessable(exc.field, str(exc)) from None
    events = await append(runtime, state, changes, actor=principal.actor, correlation_id=correlation_id())
    return Accepted(order_id=order_id, version=events[-1].version, events=[e.type for e in events])


async def _assignment(runtime: Runtime, outlet_id: str, technician_id: str, state: State) -> Assignment:
    found = await registry.get_outlet(runtime.engine, outlet_id)
    if found is None or not found[0].active:
        raise unprocessable("outlet_id", f"no active outlet {outlet_id!r}")
    outlet = found[0]
    tech = outlet.technician(technician_id)
    if tech is None:
        raise unprocessable("technician_id", f"outlet {outlet_id} has no technician {technician_id!r}")
    if state.category and state.category not in tech.skills:
        raise unprocessable("technician_id", f"technician {technician_id} is not skilled for {state.category!r}")
    return Assignment(outlet.id, outlet.provider_id, tech.id)


@router.post("/{order_id}/dispatch", response_model=Accepted)
async def dispatch_order(order_id: str, body: DispatchIn, runtime: RuntimeDep, principal: Dispatcher) -> Accepted:
    """Dispatch a reported order to an outlet and technician; the SLA deadline is recorded on the event."""
    state = await _load(runtime, order_id)
    _check_dispatcher(principal, state)
    to, now = await _assignment(runtime, body.outlet_id, body.technician_id, state), runtime.clock()
    return await _run(runtime, order_id, principal, lambda s, p: Dispatch(to, now, p), state)


@router.post("/{order_id}/reassign", response_model=Accepted)
async def reassign_order(order_id: str, body: ReassignIn, runtime: RuntimeDep, principal: Dispatcher) -> Accepted:
    """Move a dispatched order to another outlet or technician; the SLA clock keeps running."""
    state = await _load(runtime, order_id)
    _check_dispatcher(principal, state)
    to, now = await _assignment(runtime, body.outlet_id, body.technician_id, state), runtime.clock()
    return await _run(runtime, order_id, principal, lambda s, p: Reassign(to, body.reason, now, p), state)


def _at(value: datetime | None, now: datetime) -> datetime:
    return value if value is not None else now


@router.post("/{order_id}/sla/pause", response_model=Accepted)
async def pause_sla(order_id: str, body: PauseIn, runtime: RuntimeDep, principal: OnSite) -> Accepted:
    """Pause the on-site SLA while the order waits on something outside the provider's hands."""
    now = runtime.clock()
    return await _run(runtime, order_id, principal,
                      lambda s, p: PauseSla(body.reason, _at(body.occurred_at, now), now, body.note))


@router.post("/{order_id}/sla/resume", response_model=Accepted)
async def resume_sla(order_id: str, body: ResumeIn, runtime: RuntimeDep, principal: OnSite) -> Accepted:
    """Resume a paused SLA clock."""
    now = runtime.clock()
    return await _run(runtime, order_id, principal, lambda s, p: ResumeSla(_at(body.occurred_at, now), now, body.note))


@router.post("/{order_id}/arrive", response_model=Accepted)
async def arrive(order_id: str, body: ArriveIn, runtime: RuntimeDep, principal: Technician) -> Accepted:
    """Record the technician's arrival on site (time it happened, staff count)."""
    now = runtime.clock()
    return await _run(runtime, order_id, principal,
                      lambda s, p: Arrive(_at(body.arrived_at, now), now, body.staff_count))


@router.post("/{order_id}/repair", response_model=Accepted)
async def repair(order_id: str, body: RepairIn, runtime: RuntimeDep, principal: Technician) -> Accepted:
    """Record the on-site diagnosis, solution, parts, labour hours and departure."""
    now = runtime.clock()
    return await _run(runtime, order_id, principal, lambda s, p: Repair(
        diagnosis=body.diagnosis, solution=body.solution, departed_at=_at(body.departed_at, now), now=now,
        labour_hours=body.labour_hours, parts=tuple(body.parts), other_services=body.other_services,
        test_result=body.test_result, cause_analysis=body.cause_analysis, sales_opportunity=body.sales_opportunity,
    ))


@router.post("/{order_id}/complaints/{complaint_id}/respond", response_model=Accepted)
async def respond_complaint(
    order_id: str, complaint_id: UUID, body: RespondIn, runtime: RuntimeDep, principal: Dispatcher,
) -> Accepted:
    """Answer a complaint about the order (the 1-hour response SLA stops here)."""
    now = runtime.clock()
    at = _at(body.occurred_at, now)
    if at > now:
        raise unprocessable("occurred_at", "occurred_at is in the future")
    return await _run(runtime, order_id, principal, lambda s, p: RespondComplaint(complaint_id, body.response, at))
