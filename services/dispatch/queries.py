"""Reads of the dispatch queue: stored rows plus the SLA state computed at read time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from libs.events.db import reader
from services.dispatch.api.schemas import ComplaintItem, OutletLoad, QueueItem, RegionCompliance, TechnicianLoad
from services.dispatch.api.schemas.views import PartsLine, PartsWait
from services.dispatch.domain import SlaClock, SlaPolicy, sla_state
from services.dispatch.projection import complaints, parts_orders, queue
from services.dispatch.reference import policy_version

Makers = tuple[str, ...] | None  # the caller's makers (libs.web.scoping.maker_scope); None: all

OPEN = ("reported", "dispatched")  # waiting for the on-site visit
ASSIGNED = ("dispatched", "arrived")  # counted as load


class _Policies:
    """Policy versions met while answering one request (each is immutable)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn, self.cache = conn, dict[tuple[str, int], SlaPolicy]()

    async def get(self, maker: str, version: int) -> SlaPolicy:
        key = (maker, version)
        if key not in self.cache:
            self.cache[key] = await policy_version(self.conn, maker, version)
        return self.cache[key]


async def _item(row: Any, now: datetime, policies: _Policies) -> QueueItem:
    policy = await policies.get(row["maker"], row["policy_version"])
    clock = SlaClock(row["sla_started_at"], row["sla_budget_s"], row["paused_s"], row["paused_since"], row["arrived_at"])
    left = clock.left(now, policy.calendar)
    state = sla_state(left, row["sla_budget_s"], paused=row["paused_since"] is not None,
                      met=row["arrived_at"] is not None, at_risk_fraction=policy.at_risk_fraction)
    return QueueItem(
        order_id=row["order_id"], status=row["status"], maker=row["maker"], category=row["category"],
        province=row["province"], city=row["city"], county=row["county"], tier=row["tier"],
        outlet_id=row["outlet_id"], technician_id=row["technician_id"], reported_at=row["sla_started_at"],
        due_at=row["due_at"], sla_state=state, time_left_seconds=round(left, 3),
        paused_seconds=round(clock.paused_total(now, policy.calendar), 3), pause_reason=row["pause_reason"],
        escalated=row["escalated"], window_start=row["window_start"], window_end=row["window_end"],
        window_missed=row["window_missed"] or _window_passed(row, now), reschedules=row["reschedules"], eta=row["eta"],
        waiting_for_parts=_wait(row),
    )


def _window_passed(row: Any, now: datetime) -> bool:
    return row["arrived_at"] is None and row["window_end"] is not None and row["window_end"] < now


def _wait(row: Any) -> PartsWait | None:
    if row["parts_order_id"] is None:
        return None
    lines = [PartsLine(**line) for line in row["parts_lines"] or []]
    return PartsWait(parts_order_id=row["parts_order_id"], lines=lines, received_at=row["parts_received_at"])


WITH_PARTS = queue.outerjoin(parts_orders, parts_orders.c.parts_order_id == queue.c.parts_order_id)


def _of(column: Any, makers: Makers) -> ColumnElement[bool]:
    """Rows of the caller's makers (every row for None)."""
    return true() if makers is None else column.in_(makers)


async def _orders(conn: AsyncConnection, where: ColumnElement[bool], now: datetime,
                  makers: Makers = None) -> list[QueueItem]:
    where = and_(where, _of(queue.c.maker, makers))
    columns = (queue, parts_orders.c.lines.label("parts_lines"), parts_orders.c.received_at.label("parts_received_at"))
    query = select(*columns).select_from(WITH_PARTS).where(where).order_by(queue.c.due_at, queue.c.order_id)
    rows = (await conn.execute(query)).mappings()
    policies = _Policies(conn)
    return [await _item(row, now, policies) for row in rows.all()]


async def _load(conn: AsyncConnection, outlet_ids: set[str] | None,
                makers: Makers = None) -> list[OutletLoad]:
    where: ColumnElement[bool] = and_(queue.c.status.in_(ASSIGNED), _of(queue.c.maker, makers))
    if outlet_ids is not None:
        where = and_(where, queue.c.outlet_id.in_(outlet_ids))
    rows = await conn.execute(
        select(queue.c.outlet_id, queue.c.technician_id, func.count()).where(where)
        .group_by(queue.c.outlet_id, queue.c.technician_id)
    )
    per_outlet: dict[str, list[TechnicianLoad]] = defaultdict(list)
    for outlet_id, technician_id, count in rows:
        per_outlet[outlet_id].append(TechnicianLoad(technician_id=technician_id, open_orders=count))
    return [
        OutletLoad(outlet_id=o, open_orders=sum(t.open_orders for t in techs),
                   technicians=sorted(techs, key=lambda t: t.technician_id))
        for o, techs in sorted(per_outlet.items())
    ]


async def outlet_queue(engine: AsyncEngine, outlet_id: str, now: datetime,
                       makers: Makers = None) -> tuple[list[QueueItem], list[OutletLoad]]:
    async with reader(engine).connect() as conn:
        waiting = and_(queue.c.outlet_id == outlet_id, queue.c.status.in_(OPEN))
        orders = await _orders(conn, waiting, now, makers)
        return orders, await _load(conn, {outlet_id}, makers)


async def region_queue(engine: AsyncEngine, region: str, now: datetime,
                       makers: Makers = None) -> tuple[list[QueueItem], list[OutletLoad]]:
    """Open orders whose province, city or county is `region`."""
    in_region = or_(queue.c.province == region, queue.c.city == region, queue.c.county == region)
    async with reader(engine).connect() as conn:
        orders = await _orders(conn, and_(in_region, queue.c.status.in_(OPEN)), now, makers)
        return orders, await _load(conn, {o.outlet_id for o in orders if o.outlet_id}, makers)


def _late_orders(now: datetime) -> ColumnElement[bool]:
    """Waiting for a visit, past the deadline, and not paused since before it."""
    return and_(queue.c.status.in_(OPEN), queue.c.due_at < now,
                or_(queue.c.paused_since.is_(None), queue.c.paused_since > queue.c.due_at))


def _missed_windows(now: datetime) -> ColumnElement[bool]:
    """Waiting for a visit whose booked window has ended: late to the customer whatever the deadline."""
    return and_(queue.c.status.in_(OPEN), queue.c.window_end < now)


def _late_complaints(now: datetime) -> ColumnElement[bool]:
    return and_(complaints.c.due_at < now,
                or_(complaints.c.responded_at.is_(None), complaints.c.responded_at > complaints.c.due_at))


def _complaint(row: Any) -> ComplaintItem:
    return ComplaintItem(**{k: row[k] for k in ComplaintItem.model_fields})


async def overdue(engine: AsyncEngine, now: datetime,
                  makers: Makers = None) -> tuple[list[QueueItem], list[ComplaintItem]]:
    """Orders past their on-site deadline or their booked window, and complaints not answered
    in time (still unanswered)."""
    async with reader(engine).connect() as conn:
        orders = await _orders(conn, or_(_late_orders(now), _missed_windows(now)), now, makers)
        rows = await conn.execute(
            select(complaints).where(_late_complaints(now), complaints.c.responded_at.is_(None),
                                     _of(complaints.c.maker, makers))
            .order_by(complaints.c.due_at, complaints.c.complaint_id)
        )
        return orders, [_complaint(r) for r in rows.mappings()]


async def breach_candidates(engine: AsyncEngine, now: datetime) -> list[str]:
    """Order ids that may hold a breach not yet escalated (the order's own events decide)."""
    async with reader(engine).connect() as conn:
        late = or_(_late_orders(now), queue.c.breached_late)
        found = set((await conn.execute(select(queue.c.order_id).where(late, ~queue.c.escalated))).scalars())
        found |= set((await conn.execute(
            select(complaints.c.order_id).where(_late_complaints(now), ~complaints.c.escalated)
        )).scalars())
    return sorted(found)


async def parts_received_candidates(engine: AsyncEngine) -> list[tuple[str, str, datetime]]:
    """(order id, parts order id, received at) of paused orders whose parts order was received
    (the order's own events decide whether it still waits for it)."""
    query = (select(queue.c.order_id, queue.c.parts_order_id, parts_orders.c.received_at)
             .select_from(WITH_PARTS)
             .where(queue.c.paused_since.is_not(None), parts_orders.c.received_at.is_not(None))
             .order_by(queue.c.order_id))
    async with reader(engine).connect() as conn:
        return [(r[0], r[1], r[2]) for r in (await conn.execute(query)).all()]


async def load_by_outlet(engine: AsyncEngine) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Current load for routing: open orders per outlet and per (outlet, technician)."""
    async with reader(engine).connect() as conn:
        loads = await _load(conn, None)
    outlets = {o.outlet_id: o.open_orders for o in loads}
    technicians = {(o.outlet_id, t.technician_id): t.open_orders for o in loads for t in o.technicians}
    return outlets, technicians


async def compliance(engine: AsyncEngine, start: datetime, end: datetime,
                     makers: Makers = None) -> list[RegionCompliance]:
    """On-site SLA compliance per province for the orders that arrived in [start, end).

    Read from facts the events recorded (arrival time, arrived after the deadline), so a
    late-synced arrival counts when it happened and a rebuild gives the same figures.
    """
    late = func.sum(case((queue.c.breached_late, 1), else_=0))
    missed = func.sum(case((queue.c.window_missed, 1), else_=0))
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(
            select(queue.c.province, func.count(), late, missed)
            .where(queue.c.arrived_at >= start, queue.c.arrived_at < end,
                   _of(queue.c.maker, makers))
            .group_by(queue.c.province).order_by(queue.c.province)
        )).all()
    out = []
    for province, arrived, late_count, missed_count in rows:
        on_time = int(arrived) - int(late_count or 0)
        percent = (Decimal(100 * on_time) / Decimal(int(arrived))).quantize(Decimal("0.1"), ROUND_HALF_UP)
        out.append(RegionCompliance(province=province, arrived=int(arrived), on_time=on_time,
                                    late=int(late_count or 0), window_missed=int(missed_count or 0),
                                    on_time_percent=percent))
    return out



async def complaint_order(engine: AsyncEngine, complaint_id: str) -> str | None:
    """The stream (order) a complaint about an order was recorded on, if the read model has it."""
    async with reader(engine).connect() as conn:
        found = await conn.execute(select(complaints.c.order_id).where(complaints.c.complaint_id == complaint_id))
        return found.scalar_one_or_none()
