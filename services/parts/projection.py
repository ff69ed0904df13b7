"""The parts read model: catalogue, cost versions, stock moves, parts orders, returns.

Rows hold facts copied from events only. Levels, needs, costs and flags, which join
facts of different streams (a fitting from `order.repaired` against a receipt in an
outlet's stock stream, a cost version in a part's stream), are computed at query time,
so the rows never depend on the order different streams arrive in and a rebuild from the
store gives identical rows. Within one stream events come in version order, so a
handler may read what earlier events of the same stream wrote (the order's outlet when
it is repaired, the parts order's outlet when it is received).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.catalog import (
    OrderDispatched,
    OrderReassigned,
    OrderRepaired,
    OrderReported,
    PartCatalogued,
    PartCostSet,
    PartReturnReceived,
    PartReturnShipped,
    PartsOrderReceived,
    PartsOrderRequested,
    PartsOrderShipped,
    StockAdjusted,
    StockLine,
    StockReceived,
    StockReturned,
)
from libs.events.envelope import StoredEvent
from libs.events.projection import Handler, Projection
from libs.events.schema import Json, UTCDateTime
from libs.events.sqlutil import upsert

md = MetaData()

catalogue = Table(
    "parts_catalogue", md,
    Column("maker", String(100), primary_key=True),
    Column("part_no", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("fits_models", Json, nullable=False),
    Column("returnable", Boolean, nullable=False),
    Column("return_within_days", Integer),
    Column("catalogued_at", UTCDateTime, nullable=False),
)

costs = Table(
    "parts_costs", md,
    Column("event_id", String(36), primary_key=True),
    Column("maker", String(100), nullable=False, index=True),
    Column("part_no", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("cost_fen", BigInteger, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
)

moves = Table(
    "parts_moves", md,
    Column("move_id", String(60), primary_key=True),  # event id + line
    Column("position", BigInteger, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("kind", String(20), nullable=False),  # received | fitted | adjusted | returned
    Column("outlet_id", String(100), nullable=False, index=True),
    Column("provider_id", String(100)),
    Column("technician_id", String(100)),
    Column("maker", String(100), nullable=False),
    Column("part_no", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),  # signed
    Column("order_id", String(200), index=True),
    Column("parts_order_id", String(100)),
    Column("unit_cost_fen", BigInteger),
    Column("original", Boolean),
    Column("serial", String(200), index=True),
    Column("faulty_serial", String(200), index=True),
    Column("reason", Text),
)

service_orders = Table(  # what parts needs of a service order: whose it is, where it is served
    "parts_service_orders", md,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100)),
    Column("provider_id", String(100)),
    Column("outlet_id", String(100)),
    Column("technician_id", String(100)),
)

parts_orders = Table(
    "parts_orders", md,
    Column("parts_order_id", String(100), primary_key=True),
    Column("maker", String(100), nullable=False, index=True),
    Column("outlet_id", String(100), nullable=False, index=True),
    Column("provider_id", String(100), nullable=False),
    Column("supplier", String(100), nullable=False),
    Column("for_order_id", String(200), index=True),
    Column("status", String(20), nullable=False),
    Column("lines", Json, nullable=False),
    Column("shipped_lines", Json),
    Column("received_lines", Json),
    Column("total_fen", BigInteger),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("shipped_at", UTCDateTime),
    Column("received_at", UTCDateTime),
)

returns = Table(
    "parts_returns", md,
    Column("return_id", String(400), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("maker", String(100), nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("outlet_id", String(100), nullable=False),
    Column("part_no", String(100), nullable=False),
    Column("faulty_serial", String(200), nullable=False, index=True),
    Column("waybill", String(200), nullable=False),
    Column("shipped_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime),
    Column("note", Text),
)


async def on_catalogued(conn: AsyncConnection, event: StoredEvent, data: PartCatalogued) -> None:
    await upsert(conn, catalogue, [{
        "maker": data.maker, "part_no": data.part_no, "name": data.name, "fits_models": list(data.fits_models),
        "returnable": data.returnable, "return_within_days": data.return_within_days,
        "catalogued_at": event.occurred_at,
    }], ["maker", "part_no"])


async def on_cost_set(conn: AsyncConnection, event: StoredEvent, data: PartCostSet) -> None:
    await upsert(conn, costs, [{
        "event_id": str(event.id), "maker": data.maker, "part_no": data.part_no, "seq": event.version,
        "cost_fen": data.cost_fen, "effective_from": data.effective_from, "recorded_at": event.occurred_at,
        "recorded_by": event.actor,
    }], ["event_id"], update=[])


def _move(event: StoredEvent, i: int, **values: Any) -> dict[str, Any]:
    blank = {c: None for c in ("technician_id", "order_id", "parts_order_id", "unit_cost_fen", "original",
                               "serial", "faulty_serial", "reason", "provider_id")}
    return blank | {"move_id": f"{event.id}:{i}", "position": event.position, "occurred_at": event.occurred_at,
                    **values}


async def _moves(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await upsert(conn, moves, rows, ["move_id"], update=[])


def _lines(event: StoredEvent, kind: str, sign: int, lines: list[StockLine], **common: Any) -> list[dict[str, Any]]:
    return [_move(event, i, kind=kind, part_no=x.part_no, quantity=sign * x.quantity, **common)
            for i, x in enumerate(lines)]


async def on_stock_received(conn: AsyncConnection, event: StoredEvent, data: StockReceived) -> None:
    await _moves(conn, _lines(event, "received", 1, data.lines, outlet_id=data.outlet_id,
                              provider_id=data.provider_id, maker=data.maker, technician_id=data.technician_id,
                              parts_order_id=data.parts_order_id, reason=data.note or None))


async def on_stock_adjusted(conn: AsyncConnection, event: StoredEvent, data: StockAdjusted) -> None:
    await _moves(conn, [_move(event, 0, kind="adjusted", outlet_id=data.outlet_id, provider_id=data.provider_id,
                              maker=data.maker, technician_id=data.technician_id, part_no=data.part_no,
                              quantity=data.delta, reason=f"count found {data.counted}: {data.reason}")])


async def on_stock_returned(conn: AsyncConnection, event: StoredEvent, data: StockReturned) -> None:
    await _moves(conn, _lines(event, "returned", -1, data.lines, outlet_id=data.outlet_id,
                              provider_id=data.provider_id, maker=data.maker, technician_id=data.technician_id,
                              reason=data.reason))


async def _service_order(conn: AsyncConnection, event: StoredEvent, **values: Any) -> None:
    await upsert(conn, service_orders, [{"order_id": event.stream_id, **values}], ["order_id"])


async def on_reported(conn: AsyncConnection, event: StoredEvent, data: OrderReported) -> None:
    await _service_order(conn, event, maker=data.maker)


async def on_dispatched(conn: AsyncConnection, event: StoredEvent, data: OrderDispatched | OrderReassigned) -> None:
    await _service_order(conn, event, provider_id=data.provider_id, outlet_id=data.outlet_id,
                         technician_id=data.technician_id)


async def on_repaired(conn: AsyncConnection, event: StoredEvent, data: OrderRepaired) -> None:
    """The parts a repair fitted leave the outlet's (or the technician's van's) stock."""
    query = select(service_orders).where(service_orders.c.order_id == event.stream_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None or row["outlet_id"] is None or row["maker"] is None:
        return  # not reported or not dispatched: no outlet whose stock it could come from
    await _moves(conn, [
        _move(event, i, kind="fitted", outlet_id=row["outlet_id"], provider_id=row["provider_id"],
              technician_id=row["technician_id"], maker=row["maker"], part_no=p.part_no, quantity=-p.quantity,
              order_id=event.stream_id, unit_cost_fen=p.unit_cost_fen, original=p.original, serial=p.serial,
              faulty_serial=p.faulty_serial)
        for i, p in enumerate(data.parts)
    ])


async def on_order_requested(conn: AsyncConnection, event: StoredEvent, data: PartsOrderRequested) -> None:
    await upsert(conn, parts_orders, [{
        "parts_order_id": data.parts_order_id, "maker": data.maker, "outlet_id": data.outlet_id,
        "provider_id": data.provider_id, "supplier": data.supplier, "for_order_id": data.for_order_id,
        "status": "requested", "lines": [x.model_dump(mode="json") for x in data.lines],
        "requested_at": event.occurred_at,
    }], ["parts_order_id"], update=[])


def _order_id(event: StoredEvent) -> str:
    return event.stream_id.removeprefix("parts-order-")


async def on_order_shipped(conn: AsyncConnection, event: StoredEvent, data: PartsOrderShipped) -> None:
    await conn.execute(update(parts_orders).where(parts_orders.c.parts_order_id == _order_id(event)).values(
        status="shipped", shipped_lines=[x.model_dump(mode="json") for x in data.lines], total_fen=data.total_fen,
        shipped_at=event.occurred_at))


async def on_order_received(conn: AsyncConnection, event: StoredEvent, data: PartsOrderReceived) -> None:
    pid = _order_id(event)
    query = select(parts_orders).where(parts_orders.c.parts_order_id == pid)
    row = (await conn.execute(query)).mappings().one()
    await conn.execute(update(parts_orders).where(parts_orders.c.parts_order_id == pid).values(
        status="received", received_lines=[x.model_dump(mode="json") for x in data.lines],
        received_at=event.occurred_at))
    await _moves(conn, _lines(event, "received", 1, data.lines, outlet_id=row["outlet_id"],
                              provider_id=row["provider_id"], maker=row["maker"], parts_order_id=pid))


async def on_return_shipped(conn: AsyncConnection, event: StoredEvent, data: PartReturnShipped) -> None:
    await upsert(conn, returns, [{
        "return_id": data.return_id, "order_id": data.order_id, "maker": data.maker, "provider_id": data.provider_id,
        "outlet_id": data.outlet_id, "part_no": data.part_no, "faulty_serial": data.faulty_serial,
        "waybill": data.waybill, "shipped_at": event.occurred_at,
    }], ["return_id"], update=[])


async def on_return_received(conn: AsyncConnection, event: StoredEvent, data: PartReturnReceived) -> None:
    rid = event.stream_id.removeprefix("part-return-")
    await conn.execute(update(returns).where(returns.c.return_id == rid).values(
        received_at=event.occurred_at, note=data.note))


HANDLERS: dict[str, Handler] = {
    "part.catalogued": on_catalogued,
    "part.cost_set": on_cost_set,
    "stock.received": on_stock_received,
    "stock.adjusted": on_stock_adjusted,
    "stock.returned": on_stock_returned,
    "order.reported": on_reported,
    "order.dispatched": on_dispatched,
    "order.reassigned": on_dispatched,
    "order.repaired": on_repaired,
    "parts_order.requested": on_order_requested,
    "parts_order.shipped": on_order_shipped,
    "parts_order.received": on_order_received,
    "part_return.shipped": on_return_shipped,
    "part_return.received": on_return_received,
}

PROJECTION = Projection("parts", md, HANDLERS)
