"""Provenance of a statement's figures: the events each one is computed from.

Every ledger entry is booked by one event: an `order.settled` (+ its total) or an
`order.settlement_reversed` (- the total of the settlement it reverses, so that settlement's
event is evidence too, with role `prices`). A figure over entries (a payer's month total,
the month's total, the opening and closing balances) has the union of their evidence. Each
item names the event (id, stream, position, type) and its role: `books` (the figure counts
it) or `prices` (only its total is read, for a reversal). The figure recomputes from exactly
these events; tests/history/test_evidence.py does it for every figure of a month.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.settlement.queries import BALANCE_PAYER

Evidence = list[dict[str, Any]]


def _item(entry: dict[str, Any], role: str) -> dict[str, Any]:
    kind = "order.settled" if entry["kind"] == "settlement" else "order.settlement_reversed"
    return {
        "event_id": entry["entry_id"],
        "stream_id": entry["order_id"],
        "position": entry["position"],
        "type": kind,
        "role": role,
    }


def entry_evidence(entry: dict[str, Any], settled_by_id: dict[str, dict[str, Any]]) -> Evidence:
    """The event that booked the entry and, for a reversal, the settlement event it reverses."""
    out = [_item(entry, "books")]
    if entry["kind"] == "reversal":
        out.append(_item(settled_by_id[entry["settlement_id"]], "prices"))
    return out


def union(evidences: Iterable[Evidence]) -> Evidence:
    """One list, each event once, in log order: an event the figure books is not listed
    again as pricing a reversal (booking it already brings its total)."""
    seen: dict[str, dict[str, Any]] = {}
    for item in (e for ev in evidences for e in ev):
        if item["event_id"] not in seen or item["role"] == "books":
            seen[item["event_id"]] = item
    return sorted(seen.values(), key=lambda e: e["position"])


def with_evidence(body: dict[str, Any], everything: list[dict[str, Any]]) -> dict[str, Any]:
    """`queries.statement`'s answer with `evidence` on every entry, total and balance.

    `everything` is the provider's ledger up to the statement's month (what the statement
    was computed from), so a reversal of an earlier month's settlement finds its price.
    """
    settled = {e["settlement_id"]: e for e in everything if e["kind"] == "settlement"}
    month = body["month"]
    entries = [e | {"evidence": entry_evidence(e, settled)} for e in body["entries"]]
    earlier = [
        entry_evidence(e, settled)
        for e in everything
        if e["month"] < month and e["payer"] == BALANCE_PAYER
    ]
    balance_now = [e["evidence"] for e in entries if e["payer"] == BALANCE_PAYER]
    by_payer = {
        payer: cell | {"evidence": union(e["evidence"] for e in entries if e["payer"] == payer)}
        for payer, cell in body["totals"]["by_payer"].items()
    }
    totals = body["totals"] | {
        "by_payer": by_payer,
        "evidence": union(e["evidence"] for e in entries),
    }
    return body | {
        "entries": entries,
        "totals": totals,
        "opening_balance_evidence": union(earlier),
        "closing_balance_evidence": union([*earlier, *balance_now]),
    }
