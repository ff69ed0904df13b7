"""Commands on an order: dispatch, reassign, SLA pause/resume, on the way, arrive, repair, answer a complaint.

HTTP only: parse the body, call `services.dispatch.handlers.run`, answer. The rules (who may
act, which outlet and technician may take the order, times from the future) are domain code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from libs.events import catalog
from libs.events.command import Committed
from libs.web.auth import Principal
from libs.web.consistency import committed
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.runtime import Runtime
from services.dispatch.api.schemas import (
    Accepted,
    ArriveIn,
    DispatchWindowIn,
    OnTheWayIn,
    PauseIn,
    ReassignIn,
    RepairIn,
    RespondIn,
    ResumeIn,
)
from services.dispatch.certifications import check_dispatchable
from services.dispatch.domain import (
    Arrive,
    Command,
    Dispatch,
    OnTheWay,
    PauseSla,
    Reassign,
    Repair,
    RespondComplaint,
    ResumeSla,
    SlaPolicy,
    State,
)
from services.dispatch.domain.access import not_in_future
from services.dispatch.handlers import Build, assign_to, parts_order_seen, run, window_at

router = APIRouter(prefix="/dispatch/orders", tags=["dispatch"])

Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
OnSite = Annotated[Principal, Depends(require("technician", "dispatcher"))]
Technician = Annotated[Principal, Depends(require("technician"))]


async def _run(runtime: Runtime, order_id: str, principal: Principal, at: datetime, build: Build) -> Accepted:
    done: Committed[State] = await run(runtime, order_id, principal.role, principal.party, principal.actor, at,
                                       build, correlation_id())
    return Accepted(order_id=order_id, version=done.version, events=[e.type for e in done.events],
                    position=committed(done.position))


def _at(value: datetime | None, now: datetime) -> datetime:
    return value if value is not None else now


def _pure(make: Callable[[State, SlaPolicy], Command]) -> Build:
    async def build(state: State, policy: SlaPolicy) -> Command:
        return make(state, policy)

    return build


@router.post("/{order_id}/dispatch", response_model=Accepted)
async def dispatch_order(order_id: str, body: DispatchWindowIn, runtime: RuntimeDep,
                         principal: Dispatcher) -> Accepted:
    """Dispatch a reported order to an outlet and technician, optionally booking an appointment
    window from the outlet's capacity; the SLA deadline and the window are on the event."""
    now = runtime.clock()
    at = _at(body.occurred_at, now)

    async def build(state: State, policy: SlaPolicy) -> Command:
        to = await assign_to(runtime.engine, body.outlet_id, body.technician_id, state)
        await check_dispatchable(runtime.store, state, policy, to.outlet_id, to.technician_id, now)
        window = None
        if body.window_start is not None:
            window = await window_at(runtime.engine, body.outlet_id, body.window_start, now, policy)
        return Dispatch(to, at, policy, window, now if body.occurred_at is not None else None)

    return await _run(runtime, order_id, principal, at, build)


@router.post("/{order_id}/reassign", response_model=Accepted)
async def reassign_order(order_id: str, body: ReassignIn, runtime: RuntimeDep, principal: Dispatcher) -> Accepted:
    """Move a dispatched order to another outlet or technician; the SLA clock keeps running."""
    now = runtime.clock()

    async def build(state: State, policy: SlaPolicy) -> Command:
        to = await assign_to(runtime.engine, body.outlet_id, body.technician_id, state)
        await check_dispatchable(runtime.store, state, policy, to.outlet_id, to.technician_id, now)
        return Reassign(to, body.reason, now, policy)

    return await _run(runtime, order_id, principal, now, build)


@router.post("/{order_id}/sla/pause", response_model=Accepted)
async def pause_sla(order_id: str, body: PauseIn, runtime: RuntimeDep, principal: OnSite) -> Accepted:
    """Pause the on-site SLA while the order waits on something outside the provider's hands; a
    parts_on_order pause naming its parts order resumes by itself when that parts order is received."""
    now = runtime.clock()
    at = _at(body.occurred_at, now)

    async def build(state: State, policy: SlaPolicy) -> Command:
        seen = await parts_order_seen(runtime.store, body.parts_order_id) if body.parts_order_id else None
        return PauseSla(body.reason, at, now, body.note, seen)

    return await _run(runtime, order_id, principal, at, build)


@router.post("/{order_id}/sla/resume", response_model=Accepted)
async def resume_sla(order_id: str, body: ResumeIn, runtime: RuntimeDep, principal: OnSite) -> Accepted:
    """Resume a paused SLA clock."""
    now = runtime.clock()
    at = _at(body.occurred_at, now)
    return await _run(runtime, order_id, principal, at, _pure(lambda s, p: ResumeSla(at, now, body.note)))


@router.post("/{order_id}/on-the-way", response_model=Accepted)
async def on_the_way(order_id: str, body: OnTheWayIn, runtime: RuntimeDep, principal: OnSite) -> Accepted:
    """The technician sets out, with an arrival estimate (shown on the status page, sent to the customer)."""
    now = runtime.clock()
    return await _run(runtime, order_id, principal, now, _pure(lambda s, p: OnTheWay(body.eta, now)))


@router.post("/{order_id}/arrive", response_model=Accepted)
async def arrive(order_id: str, body: ArriveIn, runtime: RuntimeDep, principal: Technician) -> Accepted:
    """Record the technician's arrival on site (time it happened, staff count)."""
    now = runtime.clock()
    at = _at(body.arrived_at, now)
    return await _run(runtime, order_id, principal, at, _pure(lambda s, p: Arrive(at, now, body.staff_count)))


@router.post("/{order_id}/repair", response_model=Accepted)
async def repair(order_id: str, body: RepairIn, runtime: RuntimeDep, principal: Technician) -> Accepted:
    """Record the on-site diagnosis, solution, parts, labour hours and departure."""
    now = runtime.clock()
    at = _at(body.departed_at, now)
    return await _run(runtime, order_id, principal, at, _pure(lambda s, p: Repair(
        diagnosis=body.diagnosis, solution=body.solution, departed_at=at, now=now,
        labour_hours=body.labour_hours, other_services=body.other_services,
        parts=tuple(catalog.PartUsed(**p.model_dump()) for p in body.parts),
        test_result=body.test_result, cause_analysis=body.cause_analysis, sales_opportunity=body.sales_opportunity,
    )))


@router.post("/{order_id}/complaints/{complaint_id}/respond", response_model=Accepted)
async def respond_complaint(
    order_id: str, complaint_id: UUID, body: RespondIn, runtime: RuntimeDep, principal: Dispatcher,
) -> Accepted:
    """Answer a complaint about the order (the 1-hour response SLA stops here)."""
    now = runtime.clock()
    at = _at(body.occurred_at, now)
    not_in_future("occurred_at", at, now)
    return await _run(runtime, order_id, principal, at,
                      _pure(lambda s, p: RespondComplaint(complaint_id, body.response, at)))
