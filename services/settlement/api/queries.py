"""Provider ledgers, monthly statements (JSON/CSV), monthly totals and anomaly flags."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from libs.events.bounds import Month, WindowMoment
from libs.web.auth import Principal
from libs.web.consistency import read_model_at
from libs.web.deps import RuntimeDep, require
from libs.web.downloads import completeness_headers, content_disposition, csv_writer, write_completeness
from libs.web.scoping import maker_scope, provider_scope, visible_or_404
from services.settlement import queries

PROJECTION = "settlement"  # the read model these figures come from
router = APIRouter(tags=["settlement"], dependencies=[read_model_at(PROJECTION)])
MonthQuery = Annotated[Month, Query(description="YYYY-MM (China time)")]
LedgerReader = Annotated[Principal, Depends(require("finance", "supervisor", "provider"))]
Supervision = Annotated[Principal, Depends(require("finance", "supervisor"))]

CSV_COLUMNS = [
    "order_id", "partner_ref", "entry", "settlement_id", "payer", "reported_at", "arrived_at", "departed_at",
    "repaired_at", "booked_at", "line", "description", "quantity", "unit_fen", "claimed_fen", "amount_fen", "amount_yuan",
    "decision", "decision_reason", "decided_by", "entry_claimed_fen", "entry_total_fen", "balance_fen",
]


def _provider_only(principal: Principal, provider: str) -> None:
    """A provider's staff read only their own ledger and statements (another's: 404)."""
    allowed = provider_scope(principal) in (None, provider)
    visible_or_404(provider, allowed, f"provider {provider!r}")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def statement_csv(body: dict[str, Any], completeness: dict[str, Any]) -> str:
    """One row per settlement line, so each can be ticked off against the provider's service forms."""
    out = io.StringIO()
    out.write("\ufeff")  # UTF-8 BOM: spreadsheet programs then read the Chinese text right
    writer = csv_writer(out)  # formula cells neutralised (OWASP)
    writer.writerow(CSV_COLUMNS)

    def row(**cells: Any) -> None:
        writer.writerow([cells.get(c, "") for c in CSV_COLUMNS])

    for e in body["entries"]:
        for line in e["lines"]:
            row(order_id=e["order_id"], partner_ref=e["partner_ref"] or "", entry=e["kind"], settlement_id=e["settlement_id"],
                payer=e["payer"], reported_at=_iso(e["reported_at"]), arrived_at=_iso(e["arrived_at"]),
                departed_at=_iso(e["departed_at"]), repaired_at=_iso(e["repaired_at"]), booked_at=_iso(e["booked_at"]),
                line=line["kind"], description=line["description"], quantity=line["quantity"], unit_fen=line["unit_fen"],
                claimed_fen=line["claimed_fen"], amount_fen=line["amount_fen"], amount_yuan=yuan(line["amount_fen"]),
                decision=line["decision"], decision_reason=line["reason"] or "", decided_by=line["decided_by"] or "",
                entry_claimed_fen=e["claimed_fen"], entry_total_fen=e["amount_fen"], balance_fen=e["balance_fen"])
    writer.writerow([])
    for payer, t in body["totals"]["by_payer"].items():
        row(order_id=f"total {payer}", payer=payer, amount_fen=t["amount_fen"], amount_yuan=yuan(t["amount_fen"]))
    row(order_id="total claimed", claimed_fen=body["totals"]["claimed_fen"])
    row(order_id="opening balance", balance_fen=body["opening_balance_fen"])
    row(order_id="closing balance", balance_fen=body["closing_balance_fen"])
    write_completeness(writer, completeness)
    return out.getvalue()


@router.get("/settlement/ledger/{provider}")
async def read_ledger(provider: str, runtime: RuntimeDep, principal: LedgerReader) -> dict[str, Any]:
    """Every entry of a provider's ledger in booking order, with the running balance."""
    _provider_only(principal, provider)
    entries = await queries.ledger_entries(runtime.engine, provider, maker_scope(principal))
    return {"provider_id": provider, "entries": entries,
            "balance_fen": entries[-1]["balance_fen"] if entries else 0, **await runtime.completeness(PROJECTION)}


@router.get("/settlement/statements/{provider}", response_model=None, responses={200: {"content": {
    "application/json": {"schema": {"type": "object"}},
    "text/csv": {"schema": {"type": "string"}, "example": "order_id,partner_ref,...\r\n"}}}})
async def read_statement(
    provider: str, month: MonthQuery, runtime: RuntimeDep, principal: LedgerReader,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any] | Response:
    """A provider's monthly statement, as JSON or CSV (Accept: text/csv or ?format=csv)."""
    _provider_only(principal, provider)
    body = await queries.statement(runtime.engine, provider, month, maker_scope(principal))
    completeness = await runtime.completeness(PROJECTION)
    if format == "csv" or (format is None and "text/csv" in (accept or "")):
        filename = f"statement-{provider}-{month}.csv"
        return Response(statement_csv(body, completeness), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": content_disposition(filename),
                                 **completeness_headers(completeness)})
    return {**body, **completeness}


@router.get("/settlement/totals")
async def read_totals(month: MonthQuery, runtime: RuntimeDep, principal: Supervision) -> dict[str, Any]:
    """Entries and net amounts per provider and payer booked in a month (the ops dashboard reads this)."""
    items = await queries.monthly_totals(runtime.engine, month, maker_scope(principal))
    return {"month": month, "items": items, "amount_fen": sum(i["amount_fen"] for i in items),
            **await runtime.completeness(PROJECTION)}


@router.get("/settlement/anomalies")
async def read_anomalies(
    runtime: RuntimeDep, principal: Supervision,
    provider: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[WindowMoment | None, Query()] = None,
) -> dict[str, Any]:
    """Repairs a maker's supervisors should look at, each flag with the reason."""
    found = await queries.anomaly_flags(runtime.engine, maker_scope(principal), provider, since)
    items = [{"kind": f.kind, "order_id": f.order_id, "maker": f.maker, "provider_id": f.provider_id,
              "repaired_at": f.repaired_at, "reason": f.reason} for f in found]
    return {"items": items, "count": len(items)}
