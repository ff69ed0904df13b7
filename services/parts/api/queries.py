"""Parts reads: catalogue, stock and needs per outlet, parts orders, the parts a service order
waits for, parts cost per order and provider, serial search, returns and anomaly flags.
Everything is filtered by the caller's scope; what it may not see is answered 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from libs.web.auth import Principal
from libs.web.deps import RuntimeDep, require
from libs.web.problems import NotFound
from services.parts import queries
from services.parts.api.scope import own_outlet, scope_of

router = APIRouter(tags=["parts"])
Anyone = Annotated[Principal, Depends(require("dispatcher", "finance", "supervisor", "provider", "technician"))]
Supervision = Annotated[Principal, Depends(require("finance", "supervisor"))]
Id = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/parts/catalogue")
async def read_catalogue(runtime: RuntimeDep, principal: Anyone, maker: Id = None,
                         model: Id = None) -> dict[str, Any]:
    """The catalogue with every cost version (outlet staff see every maker's, to order from)."""
    makers = scope_of(principal).makers
    if maker is not None:
        makers = (maker,) if makers is None or maker in makers else ()
    items = await queries.catalogue_list(runtime.engine, queries.Scope(makers=makers), model)
    return {"items": items, "count": len(items)}


@router.get("/parts/stock/{outlet_id}")
async def read_stock(outlet_id: str, runtime: RuntimeDep, principal: Anyone) -> dict[str, Any]:
    """On hand per place (shelf, each van) and part, from every move."""
    own_outlet(principal, outlet_id)
    items = await queries.stock(runtime.engine, outlet_id, scope_of(principal))
    if items is None:
        raise NotFound(f"no stock recorded at outlet {outlet_id}")
    return {"outlet_id": outlet_id, "items": items}


@router.get("/parts/needs/{outlet_id}")
async def read_needs(outlet_id: str, runtime: RuntimeDep, principal: Anyone,
                     days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict[str, Any]:
    """What the outlet needs: usage over the last `days` against on hand and on order (seed 000)."""
    own_outlet(principal, outlet_id)
    since = runtime.clock() - timedelta(days=days)
    items = await queries.needs(runtime.engine, outlet_id, scope_of(principal), since)
    if items is None:
        raise NotFound(f"no stock recorded at outlet {outlet_id}")
    return {"outlet_id": outlet_id, "days": days, "items": items,
            "short": [i for i in items if i["short"] > 0]}


@router.get("/parts/orders")
async def list_parts_orders(runtime: RuntimeDep, principal: Anyone, outlet: Id = None,
                            status: Literal["requested", "shipped", "received"] | None = None) -> dict[str, Any]:
    items = await queries.parts_orders_list(runtime.engine, scope_of(principal), status, outlet)
    return {"items": items, "count": len(items)}


@router.get("/parts/orders/{parts_order_id}")
async def read_parts_order(parts_order_id: str, runtime: RuntimeDep, principal: Anyone) -> dict[str, Any]:
    found = await queries.parts_order(runtime.engine, parts_order_id, scope_of(principal))
    if found is None:
        raise NotFound(f"parts order {parts_order_id} not found")
    return found


@router.get("/parts/service-orders/{order_id}/waiting")
async def read_waiting(order_id: str, runtime: RuntimeDep, principal: Anyone) -> dict[str, Any]:
    """The parts a service order waits for (its dispatch queue entry can show them)."""
    items = await queries.waiting_parts(runtime.engine, order_id, scope_of(principal))
    return {"order_id": order_id, "items": items, "waiting": bool(items)}


@router.get("/parts/costs")
async def read_costs(runtime: RuntimeDep, principal: Annotated[Principal, Depends(require("finance", "supervisor",
                                                                                        "provider"))],
                     provider: Id = None, order_id: Id = None) -> dict[str, Any]:
    """Parts cost of every repair, per order and per provider."""
    return await queries.fitted_costs(runtime.engine, scope_of(principal), provider, order_id)


@router.get("/parts/serials/{serial}")
async def search_serial(serial: str, runtime: RuntimeDep, principal: Anyone) -> dict[str, Any]:
    """Which order fitted this serial, which removed it as faulty, and where the faulty part is."""
    found = await queries.serial_search(runtime.engine, serial, scope_of(principal))
    if not (found["fitted"] or found["removed"] or found["returns"]):
        raise NotFound(f"no part with serial {serial}")
    return found


@router.get("/parts/returns")
async def list_returns(runtime: RuntimeDep, principal: Anyone,
                       outstanding: bool = True, overdue: bool = False) -> dict[str, Any]:
    """Faulty returnable parts due back to the maker; `overdue`: only those past their limit."""
    items = await queries.returns_list(runtime.engine, scope_of(principal), runtime.clock(), outstanding)
    if overdue:
        items = [i for i in items if i["overdue"]]
    return {"items": items, "count": len(items)}


@router.get("/parts/returns/{return_id}")
async def read_return(return_id: str, runtime: RuntimeDep, principal: Anyone) -> dict[str, Any]:
    found = await queries.find_return(runtime.engine, return_id, scope_of(principal))
    if found is None:
        raise NotFound(f"return {return_id} not found")
    return found


@router.get("/parts/anomalies")
async def read_anomalies(runtime: RuntimeDep, principal: Supervision, provider: Id = None) -> dict[str, Any]:
    """Fitted parts finance and supervisors should look at, each flag with its reason."""
    found = await queries.anomaly_flags(runtime.engine, scope_of(principal), provider, runtime.clock())
    items = [{"kind": f.kind, "order_id": f.order_id, "maker": f.maker, "provider_id": f.provider_id,
              "outlet_id": f.outlet_id, "part_no": f.part_no, "repaired_at": f.repaired_at, "reason": f.reason}
             for f in found]
    return {"items": items, "count": len(items)}
