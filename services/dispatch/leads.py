"""Service feeds sales: the `dispatch_leads` read model, the lead router job and the use cases.
The rules (classification, routing, a lead's life) are in domain/leads.py.

How an opportunity becomes a lead, exactly once without a lock: the read model notes every
`order.repaired` with a `sales_opportunity` (a candidate); the router job opens a lead for each
candidate that has none, from the order's own stream and the maker's rule table in force, by
appending `lead.opened` as version 1 of `lead-{order_id}`. Two routers racing on one order: the
store takes the first append and the loser re-decides on the stream and adds nothing. Rows hold
only facts from events, so a rebuild equals the live model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events import catalog
from libs.events.catalog import LeadContacted, LeadLost, LeadOpened, LeadRulesSet, LeadWon, OrderRepaired
from libs.events.command import Committed, execute, fold
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection
from libs.events.schema import UTCDateTime
from libs.events.sqlutil import upsert
from libs.events.store import EventStore
from libs.web.runtime import Runtime, periodic
from services.dispatch.domain import leads as rules
from services.dispatch.domain.leads import DECIDER, TABLE_DECIDER, Lead, LeadCommand, RuleTable
from services.dispatch.handlers import load_order

SOURCE = "dispatch"
ROUTER = "system:lead-router"
log = logging.getLogger(__name__)
metadata = MetaData()

candidates = Table(
    "dispatch_lead_candidates",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("noted_at", UTCDateTime, nullable=False),
)

leads = Table(
    "dispatch_leads",
    metadata,
    Column("order_id", String(200), primary_key=True),
    Column("maker", String(100), nullable=False, index=True),
    Column("outlet_id", String(100)),
    Column("provider_id", String(100)),
    Column("technician_id", String(100)),
    Column("category", String(100), nullable=False),
    Column("route_to", String(100), nullable=False),
    Column("route_kind", String(20), nullable=False),
    Column("text", String(2000), nullable=False),
    Column("noted_at", UTCDateTime, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # open | contacted | won | lost
    Column("contacts", Integer, nullable=False),
    Column("first_contacted_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("amount_fen", BigInteger),
    Column("lost_reason", String(500)),
    Column("version", Integer, nullable=False),
)

PREFIX = "lead-"


def _order_of(event: StoredEvent) -> str:
    return event.stream_id[len(PREFIX):]


async def on_repaired(conn: AsyncConnection, event: StoredEvent, data: OrderRepaired) -> None:
    if data.sales_opportunity and data.sales_opportunity.strip():
        await upsert(conn, candidates, [{"order_id": event.stream_id, "noted_at": data.departed_at}], ["order_id"],
                     update=[])


async def on_opened(conn: AsyncConnection, event: StoredEvent, data: LeadOpened) -> None:
    await upsert(conn, leads, [{
        "order_id": data.order_id, "maker": data.maker, "outlet_id": data.outlet_id, "provider_id": data.provider_id,
        "technician_id": data.technician_id, "category": data.category, "route_to": data.route_to,
        "route_kind": data.route_kind, "text": data.text, "noted_at": data.noted_at, "opened_at": event.occurred_at,
        "status": "open", "contacts": 0, "first_contacted_at": None, "closed_at": None, "amount_fen": None,
        "lost_reason": None, "version": event.version,
    }], ["order_id"])


async def _set(conn: AsyncConnection, event: StoredEvent, **values: Any) -> None:
    await conn.execute(update(leads).where(leads.c.order_id == _order_of(event)).values(**values, version=event.version))


async def on_contacted(conn: AsyncConnection, event: StoredEvent, data: LeadContacted) -> None:
    row = (await conn.execute(select(leads.c.contacts, leads.c.first_contacted_at)
                              .where(leads.c.order_id == _order_of(event)))).first()
    if row is None:
        return
    await _set(conn, event, status="contacted", contacts=row[0] + 1, first_contacted_at=row[1] or event.occurred_at)


async def on_won(conn: AsyncConnection, event: StoredEvent, data: LeadWon) -> None:
    await _set(conn, event, status="won", closed_at=event.occurred_at, amount_fen=data.amount_fen)


async def on_lost(conn: AsyncConnection, event: StoredEvent, data: LeadLost) -> None:
    await _set(conn, event, status="lost", closed_at=event.occurred_at, lost_reason=data.reason)


PROJECTION = Projection("dispatch_leads", metadata, {
    "order.repaired": on_repaired,
    "lead.opened": on_opened,
    "lead.contacted": on_contacted,
    "lead.won": on_won,
    "lead.lost": on_lost,
})


# ---- the rule table ---------------------------------------------------------------------------


async def table_of(store: EventStore, maker: str) -> tuple[LeadRulesSet, int]:
    """The maker's table in force and its stream version (0: the built-in default)."""
    state: RuleTable = fold(TABLE_DECIDER, rules.rules_stream(maker), await store.read_stream(rules.rules_stream(maker)))
    return (state.table or rules.default_table(maker)), state.version


async def set_table(runtime: Runtime, table: LeadRulesSet, actor: str,
                    correlation_id: UUID | None = None) -> Committed[RuleTable]:
    return await execute(runtime.store, rules.rules_stream(table.maker), TABLE_DECIDER, table, actor, source=SOURCE,
                         now=runtime.clock, correlation_id=correlation_id)


# ---- opening leads (the router job) -------------------------------------------------------------


def _opportunity(history: Sequence[StoredEvent]) -> tuple[str, datetime] | None:
    for event in reversed(history):
        if event.type == "order.repaired":
            data = catalog.parse(event)
            assert isinstance(data, OrderRepaired)
            text = (data.sales_opportunity or "").strip()
            return (text, data.departed_at) if text else None
    return None


async def open_lead(runtime: Runtime, order_id: str) -> int:
    """Open the order's lead if it has an opportunity and no lead yet; returns events appended."""
    history = await runtime.store.read_stream(order_id)
    noted = _opportunity(history)
    state = await load_order(runtime.store, order_id)
    if noted is None or not state.maker:
        return 0
    table, _ = await table_of(runtime.store, state.maker)
    routing = rules.classify(noted[0], table)
    lead = LeadOpened(order_id=order_id, maker=state.maker, outlet_id=state.outlet_id, provider_id=state.provider_id,
                      technician_id=state.technician_id, category=routing.category, route_to=routing.route_to,
                      route_kind=routing.route_kind, text=noted[0], noted_at=noted[1])
    done = await execute(runtime.store, rules.lead_stream(order_id), DECIDER, rules.Open(lead), ROUTER,
                         source=SOURCE, now=runtime.clock)
    return len(done.events)


async def unrouted(engine: AsyncEngine, limit: int = 200) -> list[str]:
    query = (select(candidates.c.order_id).outerjoin(leads, leads.c.order_id == candidates.c.order_id)
             .where(leads.c.order_id.is_(None)).order_by(candidates.c.noted_at).limit(limit))
    async with reader(engine).connect() as conn:
        return [r[0] for r in (await conn.execute(query)).all()]


async def route_once(runtime: Runtime) -> int:
    """One pass: a lead for every noted opportunity that has none; returns leads opened."""
    opened = 0
    for order_id in await unrouted(runtime.engine):
        try:
            opened += await open_lead(runtime, order_id)
        except Exception:  # one bad order must not stop the others
            log.exception("lead router failed on order %s", order_id)
    return opened


lead_router = periodic("lead router", route_once, lambda settings: settings.sla_watch_interval)


# ---- working a lead -------------------------------------------------------------------------------


async def load_lead(store: EventStore, order_id: str) -> Lead:
    stream = rules.lead_stream(order_id)
    return fold(DECIDER, stream, await store.read_stream(stream))


async def work(runtime: Runtime, order_id: str, command: LeadCommand, actor: str,
               correlation_id: UUID | None = None) -> Committed[Lead]:
    return await execute(runtime.store, rules.lead_stream(order_id), DECIDER, command, actor, source=SOURCE,
                         now=runtime.clock, correlation_id=correlation_id)


# ---- reads ----------------------------------------------------------------------------------------


def _scoped(query: Any, makers: Sequence[str] | None, provider: str | None) -> Any:
    if makers is not None:
        query = query.where(leads.c.maker.in_(makers))
    if provider is not None:
        query = query.where(leads.c.provider_id == provider)
    return query


async def one(engine: AsyncEngine, order_id: str) -> dict[str, Any] | None:
    async with reader(engine).connect() as conn:
        row = (await conn.execute(select(leads).where(leads.c.order_id == order_id))).mappings().first()
    return None if row is None else dict(row)


async def listing(engine: AsyncEngine, makers: Sequence[str] | None, provider: str | None,
                  filters: dict[str, str | None], since: datetime | None = None, until: datetime | None = None,
                  limit: int = 500) -> list[dict[str, Any]]:
    query = _scoped(select(leads), makers, provider).order_by(leads.c.noted_at.desc(), leads.c.order_id).limit(limit)
    for name, value in filters.items():
        if value is not None:
            query = query.where(leads.c[name] == value)
    if since is not None and until is not None:
        query = query.where(leads.c.noted_at >= since, leads.c.noted_at < until)
    async with reader(engine).connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings().all()]


def tally(rows: Sequence[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Leads per `keys` (an outlet, or an outlet's technician): how many, where they stand, the
    value won and the conversion (won / leads)."""
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        names = tuple(row[k] or "" for k in keys)
        group = groups.setdefault((row["maker"], *names), {
            "maker": row["maker"], **dict(zip(keys, names, strict=True)), "provider_id": row["provider_id"] or "",
            "leads": 0, "open": 0, "contacted": 0, "won": 0, "lost": 0, "won_fen": 0})
        group["leads"] += 1
        group[row["status"]] += 1
        if row["status"] == "won":
            group["won_fen"] += row["amount_fen"] or 0
    for group in groups.values():
        group["conversion"] = rules.conversion(group["leads"], group["won"])
    return [groups[k] for k in sorted(groups)]
