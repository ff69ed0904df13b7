"""Parts commands over HTTP: catalogue and costs (maker staff), stock receipts, counts and
send-backs, parts orders and faulty-part returns (outlet staff), shipments and receipt of
returns (the dealer or warehouse: role dispatcher). Rules live in services.parts.domain;
use cases in services.parts.handlers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends

from libs.events.catalog import PartCatalogued, PartCostSet, PartsOrderRequested, StockAdjusted, StockReceived, StockReturned
from libs.events.command import Committed, type_of
from libs.web.auth import Principal
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.problems import Forbidden
from services.parts import handlers
from services.parts.api.schemas import (
    CommandPublic,
    CostCreate,
    PartCreate,
    PartsOrderCreate,
    PartsReceipt,
    ReturnCreate,
    ReturnReceipt,
    Shipment,
    StockCount,
    StockReceipt,
    StockSendBack,
)
from services.parts.api.scope import makers_of, own_outlet, provider_of
from services.parts.domain.errors import NotFound

router = APIRouter(tags=["parts"])
Catalogue = Annotated[Principal, Depends(require("dispatcher", "finance"))]
Finance = Annotated[Principal, Depends(require("finance"))]
Outlet = Annotated[Principal, Depends(require("provider", "technician"))]
Warehouse = Annotated[Principal, Depends(require("dispatcher"))]


def _public(done: Committed[Any], id_: str | None = None) -> CommandPublic:
    return CommandPublic(stream_id=done.stream_id, version=done.version, position=done.position,
                         appended=[type_of(p) for p in done.payloads], id=id_)


@router.post("/parts/catalogue", status_code=201)
async def catalogue_part(body: PartCreate, runtime: RuntimeDep, principal: Catalogue) -> CommandPublic:
    """Enter or amend a part of the caller's maker (and a first cost version): part.catalogued."""
    makers = makers_of(principal)
    if makers is not None and body.maker not in makers:
        raise Forbidden(f"{principal.id} keeps the catalogue of {', '.join(makers)}, not {body.maker}",
                        field="maker")
    entry = PartCatalogued(maker=body.maker, part_no=body.part_no, name=body.name, fits_models=body.fits_models,
                           returnable=body.returnable, return_within_days=body.return_within_days)
    return _public(await handlers.catalogue_part(runtime, entry, body.cost_fen, body.effective_from,
                                                 principal.actor, correlation_id()))


@router.post("/parts/catalogue/{maker}/{part_no}/costs", status_code=201)
async def set_cost(maker: str, part_no: str, body: CostCreate, runtime: RuntimeDep,
                   principal: Finance) -> CommandPublic:
    """A new cost version of a part, in force from its effective day: part.cost_set."""
    makers = makers_of(principal)
    if makers is not None and maker not in makers:
        raise NotFound(f"part {part_no} of {maker} is not catalogued", "part_no")
    cost = PartCostSet(maker=maker, part_no=part_no, cost_fen=body.cost_fen, effective_from=body.effective_from)
    return _public(await handlers.set_cost(runtime, cost, principal.actor, correlation_id()))


@router.post("/parts/stock/{outlet_id}/receipts", status_code=201)
async def receive_stock(outlet_id: str, body: StockReceipt, runtime: RuntimeDep, principal: Outlet) -> CommandPublic:
    """Parts put on the outlet's shelf or into a technician's van: stock.received."""
    own_outlet(principal, outlet_id)
    received = StockReceived(outlet_id=outlet_id, provider_id=principal.party, maker=body.maker,
                             technician_id=body.technician_id, lines=body.lines, note=body.note)
    return _public(await handlers.receive_stock(runtime, received, principal.actor, correlation_id()))


@router.post("/parts/stock/{outlet_id}/counts", status_code=201)
async def count_stock(outlet_id: str, body: StockCount, runtime: RuntimeDep, principal: Outlet) -> CommandPublic:
    """A stock count with its reason: stock.adjusted (counted, and the difference from the books)."""
    own_outlet(principal, outlet_id)
    count = StockAdjusted(outlet_id=outlet_id, provider_id=principal.party, maker=body.maker,
                          technician_id=body.technician_id, part_no=body.part_no, counted=body.counted, delta=0,
                          reason=body.reason)
    return _public(await handlers.count_stock(runtime, count, principal.actor, correlation_id()))


@router.post("/parts/stock/{outlet_id}/returns", status_code=201)
async def send_back(outlet_id: str, body: StockSendBack, runtime: RuntimeDep, principal: Outlet) -> CommandPublic:
    """Unused parts sent back to the dealer or warehouse: stock.returned."""
    own_outlet(principal, outlet_id)
    returned = StockReturned(outlet_id=outlet_id, provider_id=principal.party, maker=body.maker,
                             technician_id=body.technician_id, lines=body.lines, reason=body.reason)
    return _public(await handlers.send_back(runtime, returned, principal.actor, correlation_id()))


@router.post("/parts/orders", status_code=201)
async def request_parts(body: PartsOrderCreate, runtime: RuntimeDep, principal: Outlet) -> CommandPublic:
    """An outlet orders parts from its dealer or the maker's warehouse: parts_order.requested."""
    own_outlet(principal, body.outlet_id)
    pid = str(uuid4())
    request = PartsOrderRequested(parts_order_id=pid, maker=body.maker, outlet_id=body.outlet_id,
                                  provider_id=principal.party, supplier=body.supplier, lines=body.lines,
                                  for_order_id=body.for_order_id)
    return _public(await handlers.request_parts(runtime, request, principal.actor, correlation_id()), pid)


@router.post("/parts/orders/{parts_order_id}/shipment", status_code=201)
async def ship_parts(parts_order_id: str, body: Shipment, runtime: RuntimeDep, principal: Warehouse) -> CommandPublic:
    """The dealer or warehouse ships, at catalogue cost (above it: 422 naming the line)."""
    done = await handlers.ship_parts(runtime, parts_order_id, body.lines, makers_of(principal), principal.actor,
                                     correlation_id())
    return _public(done, parts_order_id)


@router.post("/parts/orders/{parts_order_id}/receipt", status_code=201)
async def receive_parts(parts_order_id: str, body: PartsReceipt, runtime: RuntimeDep,
                        principal: Outlet) -> CommandPublic:
    """The outlet receives a shipment; the parts enter its stock: parts_order.received."""
    done = await handlers.receive_parts(runtime, parts_order_id, body.lines, provider_of(principal),
                                        principal.actor, correlation_id())
    return _public(done, parts_order_id)


@router.post("/parts/returns", status_code=201)
async def ship_return(body: ReturnCreate, runtime: RuntimeDep, principal: Outlet) -> CommandPublic:
    """A repair's faulty returnable part sent back to the maker by serial: part_return.shipped."""
    done = await handlers.ship_return(runtime, body.order_id, body.part_no, body.faulty_serial, body.waybill,
                                      provider_of(principal), principal.actor, correlation_id())
    return _public(done, done.stream_id.removeprefix("part-return-"))


@router.post("/parts/returns/{return_id}/receipt", status_code=201)
async def receive_return(return_id: str, body: ReturnReceipt, runtime: RuntimeDep,
                         principal: Warehouse) -> CommandPublic:
    """The maker (its warehouse) received the faulty part: part_return.received."""
    done = await handlers.receive_return(runtime, return_id, body.note, makers_of(principal), principal.actor,
                                         correlation_id())
    return _public(done, return_id)
