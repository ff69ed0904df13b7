"""Settlement read models: what each order needs for pricing, repairs, settlements, ledger.

Rows hold facts copied from events only. Everything that depends on a fee standard
(proposals, price-list and labour-norm flags) or on other orders (repeat repairs,
running balances) is computed at query time, so the rows never depend on the order in
which different streams arrive (Kafka orders per partition only) and a rebuild from
the store gives identical rows. Within one stream the projector applies events in
version order, so a handler may read what earlier events of the same order wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.catalog import (
    OrderArrived,
    OrderDispatched,
    OrderReassigned,
    OrderRepaired,
    OrderReported,
    OrderSettled,
    OrderSettlementReversed,
)
from libs.events.chinatime import month_of
from libs.events.envelope import StoredEvent
from libs.events.projection import Handler, Projection
from libs.events.schema import Json, UTCDateTime
from libs.events.sqlutil import upsert
from services.settlement.domain.review import claimed

md = MetaData()

orders = Table(
    "settlement_orders",
    md,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100)),
    Column("partner_ref", String(200)),
    Column("category", String(100)),
    Column("serial", String(200)),
    Column("in_warranty", Boolean),
    Column("county", String(100)),
    Column("reported_at", UTCDateTime),
    Column("provider_id", String(100), index=True),
    Column("outlet_id", String(100)),
    Column("arrived_at", UTCDateTime),
    Column("departed_at", UTCDateTime),
    Column("repaired_at", UTCDateTime),
    Column("labour_hours", String(40)),
    Column("parts", Json),
    Column("settlement_id", String(36)),
    Column("repaired_position", BigInteger),
)

repairs = Table(
    "settlement_repairs",
    md,
    Column("event_id", String(36), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("order_id", String(200), nullable=False),
    Column("maker", String(100)),
    Column("provider_id", String(100)),
    Column("category", String(100)),
    Column("serial", String(200), index=True),
    Column("repaired_at", UTCDateTime, nullable=False),
    Column("labour_hours", String(40), nullable=False),
    Column("parts", Json, nullable=False),
)

settlements = Table(
    "settlement_settlements",
    md,
    Column("settlement_id", String(36), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("provider_id", String(100), nullable=False),
    Column("maker", String(100), nullable=False),
    Column("payer", String(20), nullable=False),
    Column("standard_id", String(250), nullable=False, index=True),
    Column("total_fen", BigInteger, nullable=False),  # approved: what is paid
    Column("claimed_fen", BigInteger, nullable=False),
    Column("lines", Json, nullable=False),
    Column("settled_at", UTCDateTime, nullable=False),
    Column("settled_by", String(200), nullable=False),
    Column("replaces", String(36)),
    Column("reversed_at", UTCDateTime),
    Column("reversal_reason", Text),
)

ledger = Table(
    "settlement_ledger",
    md,
    Column("entry_id", String(36), primary_key=True),  # the event id: one entry per event, ever
    Column("position", BigInteger, nullable=False),
    Column("provider_id", String(100), nullable=False, index=True),
    Column("maker", String(100), nullable=False),
    Column("month", String(7), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # settlement | reversal
    Column("order_id", String(200), nullable=False),
    Column("partner_ref", String(200)),
    Column("settlement_id", String(36), nullable=False),
    Column("payer", String(20), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),  # approved
    Column("claimed_fen", BigInteger, nullable=False),
    Column("lines", Json, nullable=False),
    Column("booked_at", UTCDateTime, nullable=False),
    Column("reported_at", UTCDateTime),
    Column("arrived_at", UTCDateTime),
    Column("departed_at", UTCDateTime),
    Column("repaired_at", UTCDateTime),
    Column("line_count", Integer, nullable=False),
    Column("note", Text, nullable=False),
)


async def _order(conn: AsyncConnection, event: StoredEvent, **values: Any) -> None:
    await upsert(conn, orders, [{"order_id": event.stream_id, **values}], ["order_id"])


async def on_reported(conn: AsyncConnection, event: StoredEvent, data: OrderReported) -> None:
    await _order(
        conn, event, maker=data.maker, partner_ref=data.external_ref, category=data.product.category,
        serial=data.product.serial, in_warranty=data.warranty.in_warranty, county=data.location.county,
        reported_at=event.occurred_at,
    )


async def on_dispatched(conn: AsyncConnection, event: StoredEvent, data: OrderDispatched | OrderReassigned) -> None:
    await _order(conn, event, provider_id=data.provider_id, outlet_id=data.outlet_id)


async def on_arrived(conn: AsyncConnection, event: StoredEvent, data: OrderArrived) -> None:
    await _order(conn, event, arrived_at=data.arrived_at)


async def on_repaired(conn: AsyncConnection, event: StoredEvent, data: OrderRepaired) -> None:
    parts = [p.model_dump(mode="json") for p in data.parts]
    hours = str(data.labour_hours)
    await _order(conn, event, departed_at=data.departed_at, repaired_at=event.occurred_at, labour_hours=hours,
                 parts=parts, repaired_position=event.position)
    row = (await conn.execute(select(orders).where(orders.c.order_id == event.stream_id))).mappings().one()
    await upsert(conn, repairs, [{
        "event_id": str(event.id), "position": event.position, "order_id": event.stream_id, "maker": row["maker"],
        "provider_id": row["provider_id"], "category": row["category"], "serial": row["serial"],
        "repaired_at": event.occurred_at, "labour_hours": hours, "parts": parts,
    }], ["event_id"], update=[])


async def _entry(conn: AsyncConnection, event: StoredEvent, settled: dict[str, Any], sign: int, note: str) -> None:
    found = (await conn.execute(select(orders).where(orders.c.order_id == event.stream_id))).mappings().first()
    row: dict[str, Any] = dict(found) if found else {}
    lines = [{**line, "amount_fen": sign * line["amount_fen"], "claimed_fen": sign * line["claimed_fen"]}
             for line in settled["lines"]]
    await upsert(conn, ledger, [{
        "entry_id": str(event.id), "position": event.position, "provider_id": settled["provider_id"],
        "maker": settled["maker"], "month": month_of(event.occurred_at),
        "kind": "settlement" if sign > 0 else "reversal", "order_id": event.stream_id,
        "partner_ref": row.get("partner_ref"), "settlement_id": settled["settlement_id"], "payer": settled["payer"],
        "amount_fen": sign * settled["total_fen"], "claimed_fen": sign * settled["claimed_fen"], "lines": lines,
        "booked_at": event.occurred_at,
        "reported_at": row.get("reported_at"), "arrived_at": row.get("arrived_at"),
        "departed_at": row.get("departed_at"), "repaired_at": row.get("repaired_at"),
        "line_count": len(lines), "note": note,
    }], ["entry_id"], update=[])


def settled_lines(data: OrderSettled, actor: str) -> list[dict[str, Any]]:
    """The lines as recorded, with claimed and deciding actor spelled out (v1 events: the recorder)."""
    return [line.model_dump(mode="json") | {"claimed_fen": claimed(line), "decided_by": line.decided_by or actor}
            for line in data.lines]


async def on_settled(conn: AsyncConnection, event: StoredEvent, data: OrderSettled) -> None:
    lines = settled_lines(data, event.actor)
    values = {
        "settlement_id": str(data.settlement_id), "order_id": event.stream_id, "provider_id": data.provider_id,
        "maker": data.maker, "payer": data.payer, "standard_id": data.standard_id, "total_fen": data.total_fen,
        "claimed_fen": sum(line["claimed_fen"] for line in lines), "lines": lines, "settled_at": event.occurred_at,
        "settled_by": event.actor, "replaces": str(data.replaces) if data.replaces else None,
    }
    await upsert(conn, settlements, [values], ["settlement_id"], update=[])
    await _order(conn, event, settlement_id=values["settlement_id"])
    note = f"corrects {data.replaces}" if data.replaces else f"standard {data.standard_id}"
    await _entry(conn, event, values, +1, note)


async def on_reversed(conn: AsyncConnection, event: StoredEvent, data: OrderSettlementReversed) -> None:
    sid = str(data.settlement_id)
    found = (await conn.execute(select(settlements).where(settlements.c.settlement_id == sid))).mappings().first()
    if found is None:
        raise LookupError(f"reversal of unknown settlement {sid}")
    await conn.execute(
        update(settlements).where(settlements.c.settlement_id == sid)
        .values(reversed_at=event.occurred_at, reversal_reason=data.reason)
    )
    await conn.execute(update(orders).where(orders.c.order_id == event.stream_id, orders.c.settlement_id == sid)
                       .values(settlement_id=None))
    await _entry(conn, event, dict(found), -1, f"reversal: {data.reason}")


HANDLERS: dict[str, Handler] = {
    "order.reported": on_reported,
    "order.dispatched": on_dispatched,
    "order.reassigned": on_dispatched,
    "order.arrived": on_arrived,
    "order.repaired": on_repaired,
    "order.settled": on_settled,
    "order.settlement_reversed": on_reversed,
}

PROJECTION = Projection("settlement", md, HANDLERS)
