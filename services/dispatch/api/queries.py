"""Queries: dispatch queues per outlet and per region, overdue work, routing suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from libs.web.auth import Principal
from libs.web.deps import RuntimeDep, require
from libs.web.problems import Forbidden, NotFound
from services.dispatch import queries, registry
from services.dispatch.domain.routing import suggest
from services.dispatch.orders import load_order
from services.dispatch.schemas import OverduePublic, QueuePublic, RoutePublic, SuggestionPublic

router = APIRouter(prefix="/dispatch", tags=["dispatch: queues"])

Desk = Annotated[Principal, Depends(require("dispatcher", "supervisor"))]
OutletReader = Annotated[Principal, Depends(require("dispatcher", "supervisor", "provider", "technician"))]


@router.get("/queues/{outlet_id}", response_model=QueuePublic)
async def outlet_queue(outlet_id: str, runtime: RuntimeDep, principal: OutletReader) -> QueuePublic:
    """An outlet's open orders by due time, with SLA state, time left and load."""
    found = await registry.get_outlet(runtime.engine, outlet_id)
    if found is None:
        raise NotFound(f"outlet {outlet_id} not found")
    if principal.role in ("provider", "technician") and principal.party != found[0].provider_id:
        raise Forbidden(f"outlet {outlet_id} belongs to another provider")
    now = runtime.clock()
    orders, load = await queries.outlet_queue(runtime.engine, outlet_id, now)
    return QueuePublic(as_of=now, outlet_id=outlet_id, orders=orders, load=load)


@router.get("/queues", response_model=QueuePublic)
async def region_queue(
    runtime: RuntimeDep, principal: Desk,
    region: Annotated[str, Query(min_length=1, max_length=100, description="a province, city or county")],
) -> QueuePublic:
    """Open orders of a region (province, city or county) by due time, dispatched or not."""
    now = runtime.clock()
    orders, load = await queries.region_queue(runtime.engine, region, now)
    return QueuePublic(as_of=now, region=region, orders=orders, load=load)


@router.get("/overdue", response_model=OverduePublic)
async def overdue(runtime: RuntimeDep, principal: Desk) -> OverduePublic:
    """Orders past their on-site deadline and complaints left unanswered past theirs."""
    now = runtime.clock()
    orders, complaints = await queries.overdue(runtime.engine, now)
    return OverduePublic(as_of=now, orders=orders, complaints=complaints)


@router.get("/orders/{order_id}/route", response_model=RoutePublic)
async def route(order_id: str, runtime: RuntimeDep, principal: Desk) -> RoutePublic:
    """Suggest an outlet and technician: county first, then city; skill filter; least load wins."""
    state = await load_order(runtime.store, order_id)
    if state.status == "new":
        raise NotFound(f"order {order_id} not found")
    _, city, county = state.region
    outlets = [o for o, _ in await registry.list_outlets(runtime.engine)]
    outlet_load, technician_load = await queries.load_by_outlet(runtime.engine)
    ranked = suggest(outlets, city=city, county=county, category=state.category,
                     outlet_load=outlet_load, technician_load=technician_load)
    candidates = [SuggestionPublic.model_validate(s.__dict__) for s in ranked]
    return RoutePublic(order_id=order_id, city=city, county=county, category=state.category,
                       best=candidates[0] if candidates else None, candidates=candidates)
