"""Read side: catalogue, stock levels per outlet and van, parts needs, the parts an order waits
for, parts cost per order and provider, serial search, returns and anomaly flags.

Every function takes the caller's scope (`Scope`: the makers a maker's staff acts for, the
provider a provider's staff works for) and filters by it, so another tenant's rows are
simply not there: the API answers them with 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.db import reader
from services.parts.domain.anomalies import Facts, Fit, Flag, flags
from services.parts.domain.catalogue import CostVersion
from services.parts.domain.returns import overdue
from services.parts.domain.stock import SHELF, Move, levels, shortages
from services.parts.projection import catalogue, costs, moves, parts_orders, returns, service_orders


@dataclass(frozen=True)
class Scope:
    makers: tuple[str, ...] | None = None  # None: every maker
    provider: str | None = None  # a provider's staff: only its own rows

    def filter(self, query: Select[Any], table: Any) -> Select[Any]:
        if self.makers is not None:
            query = query.where(table.c.maker.in_(self.makers))
        if self.provider is not None and "provider_id" in table.c:
            query = query.where(table.c.provider_id == self.provider)
        return query


async def _rows(engine: AsyncEngine, query: Any) -> list[RowMapping]:
    async with reader(engine).connect() as conn:
        return list((await conn.execute(query)).mappings())


def _cost_versions(rows: Sequence[RowMapping]) -> dict[tuple[str, str], list[CostVersion]]:
    out: dict[tuple[str, str], list[CostVersion]] = defaultdict(list)
    for r in rows:
        out[(r["maker"], r["part_no"])].append(CostVersion(r["cost_fen"], r["effective_from"], r["seq"]))
    return dict(out)


async def cost_versions(engine: AsyncEngine, maker: str, part_nos: Sequence[str]) -> dict[str, list[CostVersion]]:
    rows = await _rows(engine, select(costs).where(costs.c.maker == maker, costs.c.part_no.in_(part_nos)))
    return {k[1]: v for k, v in _cost_versions(rows).items()}


async def catalogue_list(engine: AsyncEngine, scope: Scope, model: str | None = None) -> list[dict[str, Any]]:
    """Every part the caller may see, with its cost versions; `model`: only parts that fit it."""
    parts = await _rows(engine, scope.filter(select(catalogue), catalogue).order_by(catalogue.c.maker,
                                                                                     catalogue.c.part_no))
    versions = defaultdict(list)
    for r in await _rows(engine, scope.filter(select(costs), costs).order_by(costs.c.effective_from, costs.c.seq)):
        versions[(r["maker"], r["part_no"])].append(
            {"cost_fen": r["cost_fen"], "effective_from": r["effective_from"], "recorded_by": r["recorded_by"]})
    return [dict(p) | {"costs": versions[(p["maker"], p["part_no"])]} for p in parts
            if model is None or model in p["fits_models"]]


async def _moves(engine: AsyncEngine, scope: Scope, *where: Any) -> list[RowMapping]:
    return await _rows(engine, scope.filter(select(moves), moves).where(*where).order_by(moves.c.position))


def _move(r: RowMapping) -> Move:
    return Move(r["position"], r["kind"], r["maker"], r["part_no"], r["quantity"], r["technician_id"])


async def stock(engine: AsyncEngine, outlet_id: str, scope: Scope) -> list[dict[str, Any]] | None:
    """On hand per place (the shelf, each van) and part; None when the caller sees nothing there."""
    rows = await _moves(engine, scope, moves.c.outlet_id == outlet_id)
    if not rows:
        return None
    return [{"location": "shelf" if where == SHELF else "van", "technician_id": where or None, "maker": maker,
             "part_no": part_no, "on_hand": qty}
            for (where, maker, part_no), qty in sorted(levels(map(_move, rows)).items())]


async def booked(engine: AsyncEngine, outlet_id: str, maker: str, technician_id: str | None) -> dict[str, int]:
    """part_no → on hand at the shelf (or the van) of one maker's parts: what a count is compared with."""
    rows = await _moves(engine, Scope(), moves.c.outlet_id == outlet_id, moves.c.maker == maker)
    where = technician_id or SHELF
    return {part: qty for (place, _m, part), qty in levels(map(_move, rows)).items() if place == where}


async def needs(engine: AsyncEngine, outlet_id: str, scope: Scope, since: datetime) -> list[dict[str, Any]] | None:
    """Usage since `since` against on hand (shelf and vans) and on order, per part."""
    rows = await _moves(engine, scope, moves.c.outlet_id == outlet_id)
    open_orders = await _rows(engine, scope.filter(select(parts_orders), parts_orders).where(
        parts_orders.c.outlet_id == outlet_id, parts_orders.c.status != "received"))
    if not rows and not open_orders:
        return None
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    for (_where, maker, part_no), qty in levels(map(_move, rows)).items():
        on_hand[(maker, part_no)] += qty
    used: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r["kind"] == "fitted" and r["occurred_at"] >= since:
            used[(r["maker"], r["part_no"])] -= r["quantity"]
    on_order: dict[tuple[str, str], int] = defaultdict(int)
    for o in open_orders:
        for line in o["shipped_lines"] or o["lines"]:
            on_order[(o["maker"], line["part_no"])] += line["quantity"]
    return shortages(on_hand, used, on_order)


def _order_public(r: RowMapping) -> dict[str, Any]:
    return dict(r)


async def parts_order(engine: AsyncEngine, parts_order_id: str, scope: Scope) -> dict[str, Any] | None:
    found = await _rows(engine, scope.filter(select(parts_orders), parts_orders)
                        .where(parts_orders.c.parts_order_id == parts_order_id))
    return _order_public(found[0]) if found else None


async def parts_orders_list(engine: AsyncEngine, scope: Scope, status: str | None,
                            outlet_id: str | None) -> list[dict[str, Any]]:
    query = scope.filter(select(parts_orders), parts_orders)
    if status:
        query = query.where(parts_orders.c.status == status)
    if outlet_id:
        query = query.where(parts_orders.c.outlet_id == outlet_id)
    return [_order_public(r) for r in await _rows(engine, query.order_by(parts_orders.c.requested_at,
                                                                         parts_orders.c.parts_order_id))]


async def waiting_parts(engine: AsyncEngine, order_id: str, scope: Scope) -> list[dict[str, Any]]:
    """The parts a service order waits for: its parts orders not yet received (for its queue entry)."""
    query = scope.filter(select(parts_orders), parts_orders).where(
        parts_orders.c.for_order_id == order_id, parts_orders.c.status != "received")
    return [{"parts_order_id": r["parts_order_id"], "status": r["status"], "supplier": r["supplier"],
             "lines": r["shipped_lines"] or r["lines"], "requested_at": r["requested_at"],
             "shipped_at": r["shipped_at"]} for r in await _rows(engine, query.order_by(parts_orders.c.requested_at))]


async def fitted_costs(engine: AsyncEngine, scope: Scope, provider: str | None,
                       order_id: str | None) -> dict[str, Any]:
    """Parts cost (quantity × reported unit cost) of every repair, per order and per provider."""
    where = [moves.c.kind == "fitted"]
    if provider:
        where.append(moves.c.provider_id == provider)
    if order_id:
        where.append(moves.c.order_id == order_id)
    per_order: dict[str, dict[str, Any]] = {}
    per_provider: dict[str, int] = defaultdict(int)
    for r in await _moves(engine, scope, *where):
        amount = -r["quantity"] * (r["unit_cost_fen"] or 0)
        entry = per_order.setdefault(r["order_id"], {"order_id": r["order_id"], "maker": r["maker"],
                                                     "provider_id": r["provider_id"], "outlet_id": r["outlet_id"],
                                                     "lines": [], "parts_fen": 0})
        entry["lines"].append({"part_no": r["part_no"], "quantity": -r["quantity"],
                               "unit_cost_fen": r["unit_cost_fen"], "amount_fen": amount})
        entry["parts_fen"] += amount
        per_provider[r["provider_id"] or ""] += amount
    return {"orders": list(per_order.values()),
            "providers": [{"provider_id": p, "parts_fen": v} for p, v in sorted(per_provider.items())],
            "parts_fen": sum(per_provider.values())}


async def serial_search(engine: AsyncEngine, serial: str, scope: Scope) -> dict[str, Any]:
    """Which order fitted a part with this serial, which removed it as faulty, and where that faulty part is."""
    rows = await _moves(engine, scope, moves.c.kind == "fitted",
                        or_(moves.c.serial == serial, moves.c.faulty_serial == serial))
    fitted = [{"order_id": r["order_id"], "part_no": r["part_no"], "outlet_id": r["outlet_id"],
               "provider_id": r["provider_id"], "fitted_at": r["occurred_at"]} for r in rows if r["serial"] == serial]
    removed = [{"order_id": r["order_id"], "part_no": r["part_no"], "outlet_id": r["outlet_id"],
                "provider_id": r["provider_id"], "removed_at": r["occurred_at"]}
               for r in rows if r["faulty_serial"] == serial]
    found = await _rows(engine, scope.filter(select(returns), returns).where(returns.c.faulty_serial == serial))
    back = [dict(r) | {"where": "with the maker" if r["received_at"] else "in transit to the maker"} for r in found]
    where: str | None = None
    if removed and not back:
        where = f"at outlet {removed[-1]['outlet_id']} (not yet returned)"
    elif back:
        where = back[-1]["where"]
    return {"serial": serial, "fitted": fitted, "removed": removed, "returns": back, "faulty_part_is": where}


async def returns_list(engine: AsyncEngine, scope: Scope, now: datetime, outstanding: bool) -> list[dict[str, Any]]:
    """Returns due for every fitted returnable part: shipped or not, received or not, overdue or not."""
    parts = {(r["maker"], r["part_no"]): r["return_within_days"]
             for r in await _rows(engine, select(catalogue).where(catalogue.c.returnable.is_(True)))}
    shipped = {(r["order_id"], r["part_no"]): r
               for r in await _rows(engine, scope.filter(select(returns), returns))}
    out = []
    for r in await _moves(engine, scope, moves.c.kind == "fitted"):
        key = (r["maker"], r["part_no"])
        if key not in parts:
            continue
        back = shipped.get((r["order_id"], r["part_no"]))
        received = back is not None and back["received_at"] is not None
        if outstanding and received:
            continue
        out.append({"order_id": r["order_id"], "maker": r["maker"], "provider_id": r["provider_id"],
                    "outlet_id": r["outlet_id"], "part_no": r["part_no"], "repaired_at": r["occurred_at"],
                    "faulty_serial": (back["faulty_serial"] if back else None) or r["faulty_serial"],
                    "return_id": back["return_id"] if back else None,
                    "status": "received" if received else ("shipped" if back else "due"),
                    "overdue": overdue(r["occurred_at"], parts[key], received, now)})
    return out


async def find_return(engine: AsyncEngine, rid: str, scope: Scope) -> dict[str, Any] | None:
    found = await _rows(engine, scope.filter(select(returns), returns).where(returns.c.return_id == rid))
    return dict(found[0]) if found else None


async def anomaly_flags(engine: AsyncEngine, scope: Scope, provider: str | None, now: datetime) -> list[Flag]:
    """Flags over every fitted part the caller may see (receipts of the same outlets count)."""
    fitted = await _moves(engine, scope, moves.c.kind == "fitted")
    receipts = await _rows(engine, select(moves.c.outlet_id, moves.c.maker, moves.c.part_no)
                           .where(moves.c.kind == "received"))
    entries = await _rows(engine, select(catalogue))
    back = await _rows(engine, select(returns.c.order_id, returns.c.part_no).where(returns.c.received_at.is_not(None)))
    facts = Facts(
        received={(r["outlet_id"], r["maker"], r["part_no"]) for r in receipts},
        catalogued={(r["maker"], r["part_no"]) for r in entries},
        costs=_cost_versions(await _rows(engine, select(costs))),
        returnable={(r["maker"], r["part_no"]): r["return_within_days"] for r in entries if r["returnable"]},
        returned={(r["order_id"], r["part_no"]) for r in back},
        makers={r["maker"] for r in entries},
    )
    fits = [Fit(r["order_id"], r["maker"], r["provider_id"] or "", r["outlet_id"], r["part_no"], -r["quantity"],
                r["unit_cost_fen"] or 0, bool(r["original"]), r["occurred_at"])
            for r in fitted if provider is None or r["provider_id"] == provider]
    return flags(fits, facts, now)


async def outlet_provider(engine: AsyncEngine, outlet_id: str) -> str | None:
    """The provider an outlet belongs to: the one dispatch sends its orders to, else the one
    whose staff first ordered or recorded parts there (None: an outlet nobody has used yet)."""
    so, po = service_orders, parts_orders
    for query in (select(so.c.provider_id).where(so.c.outlet_id == outlet_id, so.c.provider_id.is_not(None)),
                  select(po.c.provider_id).where(po.c.outlet_id == outlet_id).order_by(po.c.requested_at),
                  select(moves.c.provider_id).where(moves.c.outlet_id == outlet_id).order_by(moves.c.position)):
        found = await _rows(engine, query.limit(1))
        if found:
            return str(found[0]["provider_id"])
    return None
