"""The quality read model: the orders as quality sees them, every form and complaint with
the month it is counted in, the makers' policies and the frozen figures of closed months.

Which month an item counts in is decided here, in log order, so a rebuild decides the
same: its natural month (repair month for a form, receipt month for a complaint, China
time) unless that month was already closed when the item was applied — then the first
open month after it, flagged as an adjustment. Closing a month with `through_position`
P moves items applied after P (a race with the close) on to the next open month too.
Scores are not stored for open months: they are computed from these rows on query,
with the policy in force (services/quality/read.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import catalog
from libs.events.chinatime import month_of
from libs.events.envelope import StoredEvent
from libs.events.projection import Handler, Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert
from services.quality.domain import counting

metadata = MetaData()
Position = BigInteger().with_variant(Integer(), "sqlite")

orders = Table(
    "quality_orders",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100), nullable=False),
    Column("external_ref", String(200), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("product_category", String(100), nullable=False),
    Column("product_model", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("fault", Text, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("provider_id", String(100)),
    Column("outlet_id", String(100)),
    Column("repaired_at", UTCDateTime),
    Column("repaired_month", String(7)),
    Column("repaired_position", Position),
    Column("diagnosis", Text),
    Column("solution", Text),
    Column("test_result", Text),
    Column("cause_analysis", Text),
    Column("settlement_id", String(40)),
    Column("cost_fen", BigInteger),
)

reviews = Table(
    "quality_reviews",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("maker", String(100), nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("outlet_id", String(100), nullable=False),
    Column("timeliness", String(1), nullable=False),
    Column("quality", String(1), nullable=False),
    Column("attitude", String(1), nullable=False),
    Column("overall", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("natural_month", String(7), nullable=False),
    Column("month", String(7), nullable=False, index=True),
    Column("adjustment", Boolean, nullable=False),
    Column("counted_position", Position, nullable=False),
)

complaints = Table(
    "quality_complaints",
    metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),  # the stream: an order, or complaint:<id>
    Column("maker", String(100)),
    Column("provider_id", String(100)),
    Column("outlet_id", String(100)),
    Column("channel", String(20), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("natural_month", String(7), nullable=False),
    Column("month", String(7), index=True),  # None until it is attributed to a provider
    Column("adjustment", Boolean, nullable=False),
    Column("counted_position", Position),
)

policies = Table(
    "quality_policies",
    metadata,
    Column("maker", String(100), primary_key=True),
    Column("policy", JSON, nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)

months = Table(
    "quality_months",
    metadata,
    Column("maker", String(100), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("closed_at", UTCDateTime, nullable=False),
    Column("through_position", Position, nullable=False),
    Column("policy", JSON),
    Column("scores", JSON, nullable=False),
)


async def closed_months(conn: AsyncConnection, maker: str) -> set[str]:
    rows = await conn.execute(select(months.c.month).where(months.c.maker == maker))
    return {r[0] for r in rows}


async def counting_month(conn: AsyncConnection, maker: str, natural: str) -> str:
    """The natural month if still open, else the first open month after it."""
    return counting.counting_month(natural, await closed_months(conn, maker))


async def _order(conn: AsyncConnection, order_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(orders).where(orders.c.order_id == order_id))).mappings().first()
    return dict(row) if row else None


async def on_reported(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderReported) -> None:
    row = {
        "order_id": event.stream_id, "maker": data.maker, "external_ref": data.external_ref,
        "customer_name": data.customer.name, "product_category": data.product.category,
        "product_model": data.product.model, "quantity": data.product.quantity, "fault": data.fault,
        "reported_at": event.occurred_at,
    }
    await upsert(conn, orders, [row], ["order_id"])
    await attribute(conn, event.stream_id, event.position)


async def on_dispatched(
    conn: AsyncConnection, event: StoredEvent, data: catalog.OrderDispatched | catalog.OrderReassigned
) -> None:
    await conn.execute(
        update(orders).where(orders.c.order_id == event.stream_id)
        .values(provider_id=data.provider_id, outlet_id=data.outlet_id)
    )
    await attribute(conn, event.stream_id, event.position)


async def attribute(conn: AsyncConnection, stream_id: str, position: int) -> None:
    """Count the stream's not-yet-counted complaints once their maker and provider are known.

    A complaint that names no provider is counted against the provider the order was
    (or, once dispatched, is) dispatched to, in its receipt month if still open.
    """
    order = await _order(conn, stream_id)
    waiting = (
        await conn.execute(select(complaints).where(complaints.c.order_id == stream_id, complaints.c.month.is_(None)))
    ).mappings().all()
    for complaint in waiting:
        maker = complaint["maker"] or (order["maker"] if order else None)
        provider, outlet = counting.charged_to(complaint["provider_id"], complaint["outlet_id"],
                                               order["provider_id"] if order else None,
                                               order["outlet_id"] if order else None)
        values: dict[str, Any] = {"maker": maker, "provider_id": provider, "outlet_id": outlet}
        if maker and provider:
            month = await counting_month(conn, maker, complaint["natural_month"])
            values |= {"month": month, "adjustment": month != complaint["natural_month"], "counted_position": position}
        await conn.execute(update(complaints).where(complaints.c.complaint_id == complaint["complaint_id"]).values(values))


async def on_repaired(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderRepaired) -> None:
    await conn.execute(
        update(orders).where(orders.c.order_id == event.stream_id).values(
            repaired_at=data.departed_at, repaired_month=month_of(data.departed_at), repaired_position=event.position,
            diagnosis=data.diagnosis, solution=data.solution, test_result=data.test_result,
            cause_analysis=data.cause_analysis,
        )
    )


async def on_settled(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderSettled) -> None:
    await conn.execute(
        update(orders).where(orders.c.order_id == event.stream_id)
        .values(settlement_id=str(data.settlement_id), cost_fen=data.total_fen)
    )


async def on_settlement_reversed(
    conn: AsyncConnection, event: StoredEvent, data: catalog.OrderSettlementReversed
) -> None:
    await conn.execute(
        update(orders)
        .where(orders.c.order_id == event.stream_id, orders.c.settlement_id == str(data.settlement_id))
        .values(settlement_id=None, cost_fen=None)
    )


async def on_reviewed(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderReviewed) -> None:
    order = await _order(conn, event.stream_id)
    if order is None:
        raise LookupError(f"review of an order quality never saw reported: {event.stream_id}")
    repaired: datetime = order["repaired_at"] or event.occurred_at
    natural = month_of(repaired)
    month = await counting_month(conn, order["maker"], natural)
    row = {
        "order_id": event.stream_id, "channel": data.channel, "maker": order["maker"],
        "provider_id": data.provider_id, "outlet_id": data.outlet_id, "timeliness": data.timeliness,
        "quality": data.quality, "attitude": data.attitude, "overall": data.overall, "comment": data.comment,
        "reviewed_at": event.occurred_at, "natural_month": natural, "month": month,
        "adjustment": month != natural, "counted_position": event.position,
    }
    await upsert(conn, reviews, [row], ["order_id", "channel"], update=[])


async def on_complaint(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintReceived) -> None:
    row = {
        "complaint_id": str(data.complaint_id), "order_id": event.stream_id, "maker": data.maker,
        "provider_id": data.provider_id, "outlet_id": data.outlet_id, "channel": data.channel,
        "severity": data.severity, "received_at": data.received_at, "natural_month": month_of(data.received_at),
        "month": None, "adjustment": False, "counted_position": None,
    }
    await upsert(conn, complaints, [row], ["complaint_id"], update=[])
    await attribute(conn, event.stream_id, event.position)


async def on_matched(conn: AsyncConnection, event: StoredEvent, data: catalog.ComplaintMatched) -> None:
    """A complaint filed without an order (already counted against the provider it named) is now
    about this order."""
    await conn.execute(update(complaints).where(complaints.c.complaint_id == str(data.complaint_id))
                       .values(order_id=data.order_id))


async def on_policy(conn: AsyncConnection, event: StoredEvent, data: catalog.QualityPolicySet) -> None:
    policy = data.model_dump(mode="json", exclude={"maker"})
    await upsert(conn, policies, [{"maker": data.maker, "policy": policy, "set_at": event.occurred_at}], ["maker"])


async def on_month_closed(conn: AsyncConnection, event: StoredEvent, data: catalog.MonthClosed) -> None:
    through = data.through_position if data.through_position is not None else event.position
    row = {
        "maker": data.maker, "month": data.month, "closed_at": event.occurred_at, "through_position": through,
        "policy": data.policy, "scores": data.scores,
    }
    await upsert(conn, months, [row], ["maker", "month"], update=[])
    # whatever was applied after the figures were taken belongs to the next open month
    onward = await counting_month(conn, data.maker, data.month)
    for table in (reviews, complaints):
        late = and_(table.c.maker == data.maker, table.c.month == data.month, table.c.counted_position > through)
        await conn.execute(update(table).where(late).values(month=onward, adjustment=True))


HANDLERS: dict[str, Handler] = {
    "order.reported": on_reported,
    "order.dispatched": on_dispatched,
    "order.reassigned": on_dispatched,
    "order.repaired": on_repaired,
    "order.settled": on_settled,
    "order.settlement_reversed": on_settlement_reversed,
    "order.reviewed": on_reviewed,
    "complaint.received": on_complaint,
    "complaint.matched": on_matched,
    "quality.policy_set": on_policy,
    "quality.month_closed": on_month_closed,
}

PROJECTION = Projection("quality", metadata, HANDLERS)
