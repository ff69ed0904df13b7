"""Queries: dispatch queues per outlet and per region, overdue work, routing suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from libs.events.bounds import Month
from libs.events.chinatime import month_end, month_start
from libs.web.auth import Principal
from libs.web.consistency import read_model_at
from libs.web.deps import RuntimeDep, require
from libs.web.scoping import maker_scope, sees, visible_or_404
from services.dispatch import certifications, queries, reference
from services.dispatch.api.schemas import (
    ComplaintSla,
    CompliancePublic,
    OrderDispatchPublic,
    OverduePublic,
    Pause,
    QueuePublic,
    RoutePublic,
    SuggestionPublic,
)
from services.dispatch.domain import sla_state
from services.dispatch.domain.routing import suggest
from services.dispatch.handlers import load_order, policy_for
from services.dispatch.projection import PROJECTION

router = APIRouter(prefix="/dispatch", tags=["dispatch: queues"], dependencies=[read_model_at(PROJECTION.name)])

Desk = Annotated[Principal, Depends(require("dispatcher", "supervisor"))]
OutletReader = Annotated[Principal, Depends(require("dispatcher", "supervisor", "provider", "technician"))]


@router.get("/orders/{order_id}", response_model=OrderDispatchPublic)
async def order_view(order_id: str, runtime: RuntimeDep, principal: OutletReader) -> OrderDispatchPublic:
    """One order's dispatch state and SLA figures, from its own events."""
    state = await load_order(runtime.store, order_id)
    exists = state.status != "new" and state.reported_at is not None
    visible_or_404(state, exists and sees(principal, maker=state.maker, provider=state.provider_id),
                   f"order {order_id}")
    assert state.reported_at is not None
    now, policy = runtime.clock(), await policy_for(runtime.engine, state)
    clock = state.on_site_clock(policy)
    left = clock.left(now, policy.calendar)
    pauses = [Pause(started_at=a, ended_at=b) for a, b in state.pauses]
    if state.paused_since is not None:
        pauses.append(Pause(started_at=state.paused_since, ended_at=None))
    complaints = [
        ComplaintSla(complaint_id=str(c.id), received_at=c.received_at, due_at=state.complaint_due(c, policy),
                     responded_at=c.responded_at, escalated=f"complaint:{c.id}" in state.escalated)
        for c in state.complaints
    ]
    province, city, county = state.region
    return OrderDispatchPublic(
        order_id=order_id, version=state.version, status=state.status, maker=state.maker, category=state.category,
        province=province, city=city, county=county, tier=state.tier, outlet_id=state.outlet_id,
        provider_id=state.provider_id, technician_id=state.technician_id, reported_at=state.reported_at,
        due_at=clock.due_at(policy.calendar), arrived_at=state.arrived_at,
        sla_state=sla_state(left, clock.budget_seconds, paused=state.paused_since is not None,
                            met=state.arrived_at is not None, at_risk_fraction=policy.at_risk_fraction),
        time_left_seconds=round(left, 3), paused_seconds=round(clock.paused_total(now, policy.calendar), 3),
        pauses=pauses, complaints=complaints, escalated=sorted(state.escalated),
        window_start=state.window[0] if state.window else None, window_end=state.window[1] if state.window else None,
        reschedules=state.reschedules, eta=state.eta if state.status == "dispatched" else None,
    )


@router.get("/queues/{outlet_id}", response_model=QueuePublic)
async def outlet_queue(outlet_id: str, runtime: RuntimeDep, principal: OutletReader) -> QueuePublic:
    """An outlet's open orders by due time, with SLA state, time left and load."""
    found = await reference.get_outlet(runtime.engine, outlet_id)
    confined = principal.role in ("provider", "technician")
    allowed = found is not None and (not confined or sees(principal, provider=found[0].provider_id))
    visible_or_404(found, allowed, f"outlet {outlet_id}")
    now = runtime.clock()
    makers = maker_scope(principal)
    orders, load = await queries.outlet_queue(runtime.engine, outlet_id, now, makers)
    return QueuePublic(as_of=now, outlet_id=outlet_id, orders=orders, load=load)


@router.get("/queues", response_model=QueuePublic)
async def region_queue(
    runtime: RuntimeDep, principal: Desk,
    region: Annotated[str, Query(min_length=1, max_length=100, description="a province, city or county")],
) -> QueuePublic:
    """Open orders of a region (province, city or county) by due time, dispatched or not."""
    now = runtime.clock()
    orders, load = await queries.region_queue(runtime.engine, region, now, maker_scope(principal))
    return QueuePublic(as_of=now, region=region, orders=orders, load=load)


@router.get("/overdue", response_model=OverduePublic)
async def overdue(runtime: RuntimeDep, principal: Desk) -> OverduePublic:
    """Orders past their on-site deadline or booked window (window_missed), and complaints left unanswered past theirs."""
    now = runtime.clock()
    orders, complaints = await queries.overdue(runtime.engine, now, maker_scope(principal))
    return OverduePublic(as_of=now, orders=orders, complaints=complaints)


@router.get("/compliance", response_model=CompliancePublic)
async def compliance(
    runtime: RuntimeDep, principal: Desk,
    month: Annotated[Month, Query(description="YYYY-MM, China time")],
) -> CompliancePublic:
    """On-site SLA compliance per province for orders that arrived in the month (China time)."""
    start, end = month_start(month), month_end(month)
    return CompliancePublic(month=month, regions=await queries.compliance(
        runtime.engine, start, end, maker_scope(principal)))


@router.get("/orders/{order_id}/route", response_model=RoutePublic,
            dependencies=[read_model_at(certifications.PROJECTION.name)])
async def route(order_id: str, runtime: RuntimeDep, principal: Desk) -> RoutePublic:
    """Suggest an outlet and technician: county first, then city; skill (and, under `certified_only`,
    certification) filter; least load wins."""
    state = await load_order(runtime.store, order_id)
    allowed = state.status != "new" and sees(principal, maker=state.maker)
    visible_or_404(state, allowed, f"order {order_id}")
    _, city, county = state.region
    outlets = [o for o, _ in await reference.list_outlets(runtime.engine)]
    outlet_load, technician_load = await queries.load_by_outlet(runtime.engine)
    policy = await policy_for(runtime.engine, state)
    certified = (await certifications.certified_now(runtime.engine, state.maker, state.category, runtime.clock())
                 if policy.certified_only else None)
    ranked = suggest(outlets, city=city, county=county, category=state.category,
                     outlet_load=outlet_load, technician_load=technician_load, certified=certified)
    candidates = [SuggestionPublic.model_validate(s.__dict__) for s in ranked]
    return RoutePublic(order_id=order_id, city=city, county=county, category=state.category,
                       best=candidates[0] if candidates else None, candidates=candidates)
