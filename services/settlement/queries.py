"""Read side: open orders with their proposals, ledgers with running balances, statements,
monthly totals, contract consumption and anomaly flags.

Running balances are computed here, over the ledger ordered by global position, rather
than stored: a stored balance would depend on the order entries of different orders
were applied in, and a rebuild must give the same rows. The balance is what the maker
owes the provider for per-order work (payer `maker`): customer-paid work and work
charged against a lump-sum contract are listed with their amounts but do not move it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.catalog import PartUsed
from libs.events.chinatime import local_day
from libs.events.db import reader
from services.settlement.domain.anomalies import Flag, Repair, flags
from services.settlement.domain.pricing import PricingError, RepairFacts, propose
from services.settlement.domain.standards import FeeStandard, in_force
from services.settlement.projection import ledger, orders, repairs, settlements
from services.settlement.reference import load_standards

BALANCE_PAYER = "maker"
Makers = tuple[str, ...] | None  # the caller's makers (libs.web.scoping.maker_scope); None: all


def _one(makers: Makers) -> str | None:
    """The maker to load fee standards for: the one maker, else all (each row picks its own)."""
    return makers[0] if makers is not None and len(makers) == 1 else None


async def _rows(engine: AsyncEngine, query: Any) -> list[RowMapping]:
    async with reader(engine).connect() as conn:
        return list((await conn.execute(query)).mappings())


def facts_of(row: RowMapping) -> RepairFacts | None:
    if row["repaired_at"] is None or row["maker"] is None or row["provider_id"] is None:
        return None
    return RepairFacts(
        maker=row["maker"], provider_id=row["provider_id"], category=row["category"] or "", serial=row["serial"] or "",
        in_warranty=bool(row["in_warranty"]), county=row["county"] or "", repaired_at=row["repaired_at"],
        labour_hours=Decimal(row["labour_hours"]), parts=tuple(PartUsed.model_validate(p) for p in row["parts"] or []),
    )


def proposal_of(row: RowMapping, standards: list[FeeStandard]) -> dict[str, Any]:
    """The proposal for an open order, or why there is none."""
    facts = facts_of(row)
    if facts is None:
        return {"proposal": None, "problem": "order is not reported, dispatched and repaired yet"}
    standard = in_force(standards, facts.maker, facts.provider_id, local_day(facts.repaired_at))
    if standard is None:
        return {"proposal": None, "problem": f"no fee standard of {facts.maker} in force for {facts.provider_id}"}
    try:
        p = propose(facts, standard)
    except PricingError as exc:
        return {"proposal": None, "problem": str(exc)}
    lines = [{"line": i, **line.model_dump(mode="json")} for i, line in enumerate(p.lines)]
    return {"proposal": {"payer": p.payer, "standard_id": p.standard_id, "lines": lines, "total_fen": p.total_fen,
                         "claimed_fen": p.claimed_fen},
            "problem": None}


def _repair(r: RowMapping) -> Repair:
    return Repair(order_id=r["order_id"], maker=r["maker"] or "", provider_id=r["provider_id"] or "",
                  category=r["category"] or "", serial=r["serial"] or "", repaired_at=r["repaired_at"],
                  labour_hours=Decimal(r["labour_hours"]), parts=tuple(PartUsed.model_validate(p) for p in r["parts"]))


async def flags_by_order(engine: AsyncEngine, rows: list[RowMapping], standards: list[FeeStandard]) -> dict[str, list[Flag]]:
    """The anomaly flags of these orders (a repeat repair needs the unit's other repairs, so those are read too)."""
    if not rows:
        return {}
    wanted = {r["order_id"] for r in rows}
    serials = {r["serial"] for r in rows if r["serial"]}
    query = select(repairs).where(or_(repairs.c.order_id.in_(wanted), repairs.c.serial.in_(serials)))
    found = [_repair(r) for r in await _rows(engine, query) if r["maker"] in {row["maker"] for row in rows}]
    out: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags(found, standards):
        if flag.order_id in wanted:
            out[flag.order_id].append(flag)
    return out


def flags_public(found: list[Flag]) -> list[dict[str, Any]]:
    return [{"kind": f.kind, "reason": f.reason} for f in found]


def order_public(row: RowMapping) -> dict[str, Any]:
    keys = ("order_id", "maker", "partner_ref", "category", "serial", "in_warranty", "provider_id", "outlet_id",
            "reported_at", "arrived_at", "departed_at", "repaired_at", "labour_hours", "settlement_id")
    return {k: row[k] for k in keys} | {"parts": row["parts"] or []}


async def open_orders(engine: AsyncEngine, makers: Makers,
                      provider: str | None) -> list[dict[str, Any]]:
    """Repaired, unsettled orders (oldest repair first) with the proposal each would settle to."""
    query = select(orders).where(orders.c.repaired_at.is_not(None), orders.c.settlement_id.is_(None))
    if makers is not None:
        query = query.where(orders.c.maker.in_(makers))
    if provider:
        query = query.where(orders.c.provider_id == provider)
    rows = await _rows(engine, query.order_by(orders.c.repaired_position))
    standards = await load_standards(engine, _one(makers))
    flagged = await flags_by_order(engine, rows, standards)
    return [order_public(r) | proposal_of(r, standards) | {"flags": flags_public(flagged.get(r["order_id"], []))}
            for r in rows]


async def order_detail(engine: AsyncEngine, order_id: str) -> dict[str, Any] | None:
    found = await _rows(engine, select(orders).where(orders.c.order_id == order_id))
    if not found:
        return None
    row = found[0]
    history = await _rows(engine, select(settlements).where(settlements.c.order_id == order_id)
                          .order_by(settlements.c.settled_at, settlements.c.settlement_id))
    standards = await load_standards(engine, row["maker"])
    flagged = await flags_by_order(engine, [row], standards) if row["repaired_at"] is not None else {}
    out = order_public(row) | {"settlements": [dict(s) for s in history],
                               "flags": flags_public(flagged.get(order_id, []))}
    if row["settlement_id"] is None:
        out |= proposal_of(row, standards)
    return out


async def ledger_entries(engine: AsyncEngine, provider: str, makers: Makers = None,
                         upto_month: str | None = None) -> list[dict[str, Any]]:
    """The provider's entries (with these makers, if given) in booking order, each with the running
    balance after it."""
    query = select(ledger).where(ledger.c.provider_id == provider)
    if makers is not None:
        query = query.where(ledger.c.maker.in_(makers))
    if upto_month:
        query = query.where(ledger.c.month <= upto_month)
    balance, out = 0, []
    for row in await _rows(engine, query.order_by(ledger.c.position)):
        if row["payer"] == BALANCE_PAYER:
            balance += row["amount_fen"]
        out.append(dict(row) | {"balance_fen": balance})
    return out


def by_payer(entries: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"entries": 0, "amount_fen": 0})
    for e in entries:
        totals[e["payer"]]["entries"] += 1
        totals[e["payer"]]["amount_fen"] += e["amount_fen"]
    return dict(sorted(totals.items()))


async def statement(engine: AsyncEngine, provider: str, month: str,
                    makers: Makers = None) -> dict[str, Any]:
    """One provider's month: opening balance, every entry with its lines, totals per payer, closing balance."""
    everything = await ledger_entries(engine, provider, makers, upto_month=month)
    before = [e for e in everything if e["month"] < month]
    entries = [e for e in everything if e["month"] == month]
    opening = before[-1]["balance_fen"] if before else 0
    return {
        "provider_id": provider, "month": month, "opening_balance_fen": opening,
        "closing_balance_fen": entries[-1]["balance_fen"] if entries else opening,
        "entries": entries, "totals": {"by_payer": by_payer(entries), "amount_fen": sum(e["amount_fen"] for e in entries),
                                       "claimed_fen": sum(e["claimed_fen"] for e in entries), "entries": len(entries)},
    }


async def monthly_totals(engine: AsyncEngine, month: str, makers: Makers) -> list[dict[str, Any]]:
    """Per provider and payer: entries and net amount booked in the month."""
    query = select(ledger.c.provider_id, ledger.c.payer, ledger.c.amount_fen).where(ledger.c.month == month)
    if makers is not None:
        query = query.where(ledger.c.maker.in_(makers))
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in await _rows(engine, query):
        cell = sums[(row["provider_id"], row["payer"])]
        cell[0] += 1
        cell[1] += row["amount_fen"]
    return [{"provider_id": p, "payer": payer, "entries": n, "amount_fen": amount}
            for (p, payer), (n, amount) in sorted(sums.items())]


async def contract_consumption(engine: AsyncEngine, standard: FeeStandard) -> dict[str, Any]:
    """A lump-sum contract's budget, what settled orders charged against it, and what is left."""
    s = settlements
    rows = await _rows(engine, select(s.c.total_fen).where(
        and_(s.c.standard_id == standard.standard_id, s.c.payer == "lump_sum", s.c.reversed_at.is_(None))))
    consumed = sum(r["total_fen"] for r in rows)
    budget = standard.budget_fen or 0
    return {
        "standard_id": standard.standard_id, "maker": standard.maker, "provider_id": standard.provider_id,
        "effective_from": standard.effective_from, "budget_fen": budget, "orders": len(rows),
        "consumed_fen": consumed, "remaining_fen": budget - consumed,
        "rule": "多不退、少不补: no refund if under-spent, no top-up if over-spent",
    }


async def anomaly_flags(engine: AsyncEngine, makers: Makers, provider: str | None,
                        since: datetime | None) -> list[Flag]:
    """Flags over all repairs (repeat checks need the earlier ones), then filtered."""
    query = select(repairs)
    if makers is not None:
        query = query.where(repairs.c.maker.in_(makers))
    found = [_repair(r) for r in await _rows(engine, query)]
    out = flags(found, await load_standards(engine, _one(makers)))
    return [f for f in out if (provider is None or f.provider_id == provider) and (since is None or f.repaired_at >= since)]
