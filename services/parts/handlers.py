"""The parts service's use cases: load the stream, check the caller's scope, fetch what the
rules need (catalogue costs from the parts' own streams, booked levels from the read model,
the repair from the order's stream), decide, append (libs.events.command.execute; a race
with another writer is decided again). No FastAPI.

Scope: `makers` is None for every maker, else the makers the caller acts for; `provider`
is None for maker staff, else the provider whose staff call. Another tenant's stream is
answered as absent (NotFound, 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from libs.events.catalog import (
    PartCatalogued,
    PartCostSet,
    PartReturnShipped,
    PartsOrderRequested,
    ShippedLine,
    StockAdjusted,
    StockLine,
    StockReceived,
    StockReturned,
)
from libs.events.chinatime import local_day
from libs.events.command import Committed, execute, fold
from libs.events.decider import Decider
from libs.web.runtime import Runtime
from services.parts import queries
from services.parts.domain import catalogue, orders, returns, stock
from services.parts.domain.errors import NotFound
from services.parts.domain.service_order import READER, ServiceOrder

SOURCE = "parts"
Makers = tuple[str, ...] | None
S = TypeVar("S")
C = TypeVar("C")


def _maker_in(makers: Makers, maker: str | None, what: str) -> None:
    if maker is None or (makers is not None and maker not in makers):
        raise NotFound(f"{what} not found")


async def _part(runtime: Runtime, maker: str, part_no: str) -> catalogue.Part:
    stream = catalogue.part_stream(maker, part_no)
    return fold(catalogue.DECIDER, stream, await runtime.store.read_stream(stream))


async def _run(runtime: Runtime, stream: str, decider: Decider[S, C], command: C | Callable[[S], Awaitable[C]],
               actor: str, correlation_id: UUID | None) -> Committed[S]:
    return await execute(runtime.store, stream, decider, command, actor, source=SOURCE, now=runtime.clock,
                         correlation_id=correlation_id)


async def catalogue_part(runtime: Runtime, entry: PartCatalogued, cost_fen: int | None,
                         effective_from: date | None, actor: str,
                         correlation_id: UUID | None = None) -> Committed[Any]:
    command = catalogue.Catalogue(entry, cost_fen, effective_from)
    return await _run(runtime, catalogue.part_stream(entry.maker, entry.part_no), catalogue.DECIDER, command,
                      actor, correlation_id)


async def set_cost(runtime: Runtime, cost: PartCostSet, actor: str,
                   correlation_id: UUID | None = None) -> Committed[Any]:
    return await _run(runtime, catalogue.part_stream(cost.maker, cost.part_no), catalogue.DECIDER,
                      catalogue.SetCost(cost), actor, correlation_id)


async def _outlet_of(runtime: Runtime, outlet_id: str, provider_id: str) -> None:
    """An outlet another provider works from is not found (the stock stream checks its own owner too)."""
    owner = await queries.outlet_provider(runtime.engine, outlet_id)
    if owner is not None and owner != provider_id:
        raise NotFound(f"no outlet {outlet_id} of provider {provider_id}", "outlet_id")


async def receive_stock(runtime: Runtime, received: StockReceived, actor: str,
                        correlation_id: UUID | None = None) -> Committed[Any]:
    await _outlet_of(runtime, received.outlet_id, received.provider_id)
    return await _run(runtime, stock.stock_stream(received.outlet_id), stock.DECIDER, stock.Receive(received),
                      actor, correlation_id)


async def count_stock(runtime: Runtime, count: StockAdjusted, actor: str,
                      correlation_id: UUID | None = None) -> Committed[Any]:
    """A count: the event records what was counted and the difference from the books as the read
    model showed them (a fitting not yet projected is then corrected by the next count; the
    counted figure itself is in the event, so nothing is lost)."""
    await _outlet_of(runtime, count.outlet_id, count.provider_id)

    async def build(_state: stock.Stock) -> stock.Count:
        books = await queries.booked(runtime.engine, count.outlet_id, count.maker, count.technician_id)
        return stock.Count(count.outlet_id, count.provider_id, count.maker, count.technician_id, count.part_no,
                           count.counted, books.get(count.part_no, 0), count.reason)

    return await _run(runtime, stock.stock_stream(count.outlet_id), stock.DECIDER, build, actor, correlation_id)


async def send_back(runtime: Runtime, returned: StockReturned, actor: str,
                    correlation_id: UUID | None = None) -> Committed[Any]:
    await _outlet_of(runtime, returned.outlet_id, returned.provider_id)

    async def build(_state: stock.Stock) -> stock.SendBack:
        books = await queries.booked(runtime.engine, returned.outlet_id, returned.maker, returned.technician_id)
        return stock.SendBack(returned, books)

    return await _run(runtime, stock.stock_stream(returned.outlet_id), stock.DECIDER, build, actor, correlation_id)


async def request_parts(runtime: Runtime, request: PartsOrderRequested, actor: str,
                        correlation_id: UUID | None = None) -> Committed[Any]:
    await _outlet_of(runtime, request.outlet_id, request.provider_id)
    return await _run(runtime, orders.order_stream(request.parts_order_id), orders.DECIDER, orders.Request(request),
                      actor, correlation_id)


async def ship_parts(runtime: Runtime, parts_order_id: str, lines: Sequence[ShippedLine], makers: Makers,
                     actor: str, correlation_id: UUID | None = None) -> Committed[Any]:
    """The dealer or warehouse ships at catalogue cost (the cost in force on the shipping day)."""
    async def build(state: orders.PartsOrder) -> orders.Ship:
        maker = state.request.maker if state.request else None
        _maker_in(makers, maker, f"parts order {parts_order_id}")
        assert maker is not None
        day = local_day(runtime.clock())
        found = {x.part_no: catalogue.cost_in_force((await _part(runtime, maker, x.part_no)).costs, day)
                 for x in lines}
        return orders.Ship(tuple(lines), found)

    return await _run(runtime, orders.order_stream(parts_order_id), orders.DECIDER, build, actor, correlation_id)


async def receive_parts(runtime: Runtime, parts_order_id: str, lines: Sequence[StockLine] | None,
                        provider: str | None, actor: str, correlation_id: UUID | None = None) -> Committed[Any]:
    async def build(state: orders.PartsOrder) -> orders.Receive:
        if state.request is None or (provider is not None and state.request.provider_id != provider):
            raise NotFound(f"parts order {parts_order_id} not found")
        return orders.Receive(tuple(lines) if lines is not None else None)

    return await _run(runtime, orders.order_stream(parts_order_id), orders.DECIDER, build, actor, correlation_id)


async def _service_order(runtime: Runtime, order_id: str) -> ServiceOrder:
    return fold(READER, order_id, await runtime.store.read_stream(order_id))


async def ship_return(runtime: Runtime, order_id: str, part_no: str, faulty_serial: str, waybill: str,
                      provider: str | None, actor: str, correlation_id: UUID | None = None) -> Committed[Any]:
    """The outlet sends the faulty part of a repair back to the maker, named by its serial."""
    order = await _service_order(runtime, order_id)
    if not order.repaired or order.maker is None or order.provider_id is None or order.outlet_id is None \
            or (provider is not None and order.provider_id != provider):
        raise NotFound(f"no repaired order {order_id}", "order_id")
    part = await _part(runtime, order.maker, part_no)
    returns.return_check(order.parts, part_no, faulty_serial, part.returnable)
    rid = returns.return_id(order_id, faulty_serial)
    shipped = PartReturnShipped(return_id=rid, order_id=order_id, maker=order.maker, provider_id=order.provider_id,
                                outlet_id=order.outlet_id, part_no=part_no, faulty_serial=faulty_serial,
                                waybill=waybill)
    return await _run(runtime, returns.return_stream(rid), returns.DECIDER, returns.ShipReturn(shipped), actor,
                      correlation_id)


async def receive_return(runtime: Runtime, rid: str, note: str, makers: Makers, actor: str,
                         correlation_id: UUID | None = None) -> Committed[Any]:
    async def build(state: returns.Return) -> returns.ReceiveReturn:
        _maker_in(makers, state.shipped.maker if state.shipped else None, f"return {rid}")
        return returns.ReceiveReturn(note)

    return await _run(runtime, returns.return_stream(rid), returns.DECIDER, build, actor, correlation_id)
