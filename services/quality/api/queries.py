"""Quality queries: monthly scores, a provider's history, the ranking, the 表7-28 sheet (CSV).

Money is integer fen in JSON (`*_fen`) and yuan with two decimals in the CSV, whose
header says so. Months are 'YYYY-MM' in China time (services/quality/months.py).

The 表7-28 sheet lists a maker's orders repaired in the month (China time), one row
each: 投诉时间 is when the customer reported the problem (order.reported), 处理时间 when
the technician left after the repair, 处理费用 the settled total (empty until settled).
Times are China time; the file starts with a UTF-8 BOM so Excel reads the Chinese.
"""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select

from libs.events.bounds import Month, Week
from libs.events.chinatime import local_minute
from libs.events.db import reader
from libs.events.settings import Settings
from libs.web.auth import Principal
from libs.web.consistency import read_model_at
from libs.web.deps import RuntimeDep, require
from libs.web.downloads import completeness_headers, content_disposition, csv_writer, write_completeness
from libs.web.problems import Problem
from libs.web.runtime import Runtime
from libs.web.scoping import maker_or_404, maker_scope, provider_scope, visible_or_404
from libs.web.text import PlainText
from services.quality import queries as read
from services.quality.api.schemas import CallBacksPublic, HistoryPublic, PolicyPublic, RankingPublic, ScoresPublic
from services.quality.domain.scoring import parse_fraction
from services.quality.projection import PROJECTION, orders, policies

router = APIRouter(tags=["quality"], dependencies=[read_model_at(PROJECTION.name)])
Readers = Annotated[Principal, Depends(require("supervisor", "finance", "provider"))]
Staff = Annotated[Principal, Depends(require("supervisor", "finance"))]
# which forms are drawn is supervision's alone: a provider that saw the list could fix those forms
Supervisors = Annotated[Principal, Depends(require("supervisor"))]
MonthQuery = Annotated[Month, Query(description="YYYY-MM, China time")]
MakerQuery = Annotated[PlainText, Query(min_length=1, max_length=100)]
MakerPath = Annotated[str, Path(min_length=1, max_length=100)]
LevelQuery = Annotated[read.Level, Query()]

DEMO_SAMPLE_KEY = b"demo-quality-sample-key"  # the embedded demo's only; a deployment sets QUALITY_SAMPLE_KEY


def sample_key(settings: Settings) -> bytes:
    """The deployment's key of the call-back draw; without one (outside the demo) there is no list."""
    if settings.quality_sample_key is not None and settings.quality_sample_key.get_secret_value():
        return settings.quality_sample_key.get_secret_value().encode()
    if settings.demo:
        return DEMO_SAMPLE_KEY
    raise Problem("QUALITY_SAMPLE_KEY is not set: the call-back draw needs a key providers do not know",
                  status=503, title="Not configured")


SHEET_COLUMNS = [
    "序号", "客户名称", "产品类型", "产品型号", "数量", "问题描述", "检测结果", "处理方案", "原因分析",
    "投诉时间", "处理时间", "处理费用(元)", "对应服务单编号",
]


def _visible(principal: Principal, scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A provider sees only its own line; supervision and finance their makers' (filtered
    before)."""
    confined = provider_scope(principal)
    if confined is not None:
        return [s for s in scores if s["level"] == "provider" and s["id"] == confined]
    return scores


@router.get("/quality/scores", response_model=ScoresPublic)
async def scores(
    runtime: RuntimeDep, principal: Readers, month: MonthQuery,
    maker: Annotated[PlainText | None, Query(min_length=1, max_length=100)] = None, level: LevelQuery = "provider",
) -> dict[str, Any]:
    """Monthly scores per provider (or outlet): frozen if the month is closed, live otherwise."""
    scope = maker_scope(principal)
    async with reader(runtime.engine).connect() as conn:
        makers = [maker_or_404(principal, maker)] if maker else [
            m for m in await read.makers_in(conn, month) if scope is None or m in scope]
        sheets = [(await read.sheet(conn, m, month, level), await read.late_items(conn, m, month)) for m in makers]
    confined = provider_scope(principal)
    return {
        "month": month, "level": level, **await runtime.completeness(PROJECTION.name),
        "makers": [
            {"maker": s.maker, "closed": s.closed, "scores": _visible(principal, list(s.scores.values())),
             "late_items": [i for i in late if confined is None or i["provider_id"] == confined]}
            for s, late in sheets
        ],
    }


@router.get("/quality/call-backs", response_model=CallBacksPublic)
async def call_backs(
    runtime: RuntimeDep, principal: Supervisors, week: Annotated[Week, Query(description="YYYY-Www, China time")],
    maker: Annotated[PlainText | None, Query(min_length=1, max_length=100, description="default: the caller's maker")] = None,
) -> dict[str, Any]:
    """The week's call-back list: per provider, the policy's share of its customer forms, drawn reproducibly."""
    maker = maker_or_404(principal, maker or principal.party)
    async with reader(runtime.engine).connect() as conn:
        return await read.call_backs(conn, maker, week, sample_key(runtime.settings))


@router.get("/quality/policies/{maker}", response_model=PolicyPublic)
async def policy(maker: MakerPath, runtime: RuntimeDep, principal: Staff) -> dict[str, Any]:
    """A maker's reward/penalty policy (money in fen); the seed's numbers if it never set one."""
    maker_or_404(principal, maker)
    async with reader(runtime.engine).connect() as conn:
        row = (await conn.execute(select(policies.c.policy).where(policies.c.maker == maker))).first()
        current = await read.policy_for(conn, maker)
    return {"maker": maker, "default": row is None, "policy": current}


@router.get("/quality/rankings", response_model=RankingPublic)
async def ranking(
    runtime: RuntimeDep, principal: Staff, month: MonthQuery, maker: MakerQuery, level: LevelQuery = "provider"
) -> dict[str, Any]:
    """Providers of a maker ranked: highest avg first, then fewest complaints, then the larger amount."""
    maker_or_404(principal, maker)
    async with reader(runtime.engine).connect() as conn:
        sheet = await read.sheet(conn, maker, month, level)
    ordered = sorted(sheet.scores.values(), key=_rank_key)
    return {
        "maker": maker, "month": month, "level": level, "closed": sheet.closed,
        **await runtime.completeness(PROJECTION.name),
        "ranking": [{"rank": i, **s} for i, s in enumerate(ordered, start=1)],
    }


def _rank_key(score: dict[str, Any]) -> tuple[int, Fraction, int, int, str]:
    avg = parse_fraction(score["avg_exact"])
    return (avg is None, -(avg or Fraction(0)), score["complaints"], -score["amount_fen"], score["id"])


@router.get("/quality/providers/{provider_id}/history", response_model=HistoryPublic)
async def history(provider_id: str, runtime: RuntimeDep, principal: Readers) -> dict[str, Any]:
    """A provider's month-by-month scores (every maker it served), oldest first."""
    confined, scope = provider_scope(principal), maker_scope(principal)
    visible_or_404(provider_id, confined in (None, provider_id), f"provider {provider_id!r}")
    months: list[dict[str, Any]] = []
    async with reader(runtime.engine).connect() as conn:
        for maker, month in await read.provider_months(conn, provider_id):
            if scope is not None and maker not in scope:
                continue  # a maker's staff reads the provider's months for its own makers only
            sheet = await read.sheet(conn, maker, month, "provider")
            if provider_id in sheet.scores:
                months.append({"maker": maker, "month": month, "closed": sheet.closed, **sheet.scores[provider_id]})
    return {"provider_id": provider_id, "months": months, **await runtime.completeness(PROJECTION.name)}


@router.get("/quality/months/{month}/statistics.csv", response_class=Response)
async def statistics_sheet(
    runtime: RuntimeDep, principal: Staff, maker: MakerQuery,
    month: Annotated[Month, Path(description="YYYY-MM, China time")],
) -> Response:
    """The monthly service statistics sheet (表7-28) of a maker's orders repaired in the month, as CSV."""
    maker_or_404(principal, maker)
    completeness = await runtime.completeness(PROJECTION.name)
    return Response(await statistics_csv(runtime, month, maker, completeness), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(f"statistics-{maker}-{month}.csv"),
                             **completeness_headers(completeness)})


async def statistics_csv(runtime: Runtime, month: str, maker: str, completeness: dict[str, Any]) -> str:
    query = (
        select(orders)
        .where(orders.c.maker == maker, orders.c.repaired_month == month)
        .order_by(orders.c.repaired_at, orders.c.order_id)
    )
    async with reader(runtime.engine).connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    out = io.StringIO()
    writer = csv_writer(out)  # formula cells neutralised (OWASP)
    writer.writerow(SHEET_COLUMNS)
    for number, row in enumerate(rows, start=1):
        cost = "" if row["cost_fen"] is None else str((Decimal(row["cost_fen"]) / 100).quantize(Decimal("0.01")))
        writer.writerow([
            number, row["customer_name"], row["product_category"], row["product_model"], row["quantity"],
            row["fault"], row["test_result"] or "", row["solution"] or "", row["cause_analysis"] or "",
            local_minute(row["reported_at"]), local_minute(row["repaired_at"]), cost, row["order_id"],
        ])
    write_completeness(writer, completeness)
    return "\ufeff" + out.getvalue()  # BOM: the makers open it in Excel
