"""Monthly scores from the read model: frozen figures for closed months, computed for open ones.

Open months are computed on query from the counted forms and complaints with the
maker's current policy, so a policy change shows at once until the month is closed;
closing freezes exactly what this module returns at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import ColumnElement, RowMapping, Table, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.chinatime import previous_month, week_end, week_start
from services.quality.domain import counting, sampling
from services.quality.domain.policy import Policy, default_policy, policy_from_json
from services.quality.domain.scoring import (
    Form,
    MonthScore,
    contradicts,
    month_score,
    parse_fraction,
    satisfaction,
    scored_forms,
)
from services.quality.projection import complaints, months, orders, policies, reviews

Level = Literal["provider", "outlet"]
LEVELS: tuple[Level, ...] = ("provider", "outlet")


@dataclass(frozen=True)
class Sheet:
    """One month's figures of one maker at one level: subject id → score json."""

    maker: str
    month: str
    level: Level
    closed: bool
    scores: dict[str, dict[str, Any]]


async def policy_for(conn: AsyncConnection, maker: str) -> Policy:
    row = (await conn.execute(select(policies.c.policy).where(policies.c.maker == maker))).first()
    return policy_from_json(row[0]) if row else default_policy()


async def frozen(conn: AsyncConnection, maker: str, month: str) -> list[dict[str, Any]] | None:
    row = (
        await conn.execute(select(months.c.scores).where(months.c.maker == maker, months.c.month == month))
    ).first()
    return list(row[0]) if row else None


def _upto(table: Table, column: str, through: int | None) -> ColumnElement[bool]:
    return true() if through is None else table.c[column] <= through


async def _forms(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None
) -> dict[str, list[tuple[Form, bool]]]:
    key = "provider_id" if level == "provider" else "outlet_id"
    query = select(reviews).where(
        reviews.c.maker == maker, reviews.c.month == month, _upto(reviews, "counted_position", through)
    )
    out: dict[str, list[tuple[Form, bool]]] = defaultdict(list)
    for row in (await conn.execute(query)).mappings():
        out[row[key]].append((_form(row), bool(row["adjustment"])))
    return out


async def _complaints(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None
) -> dict[str, list[tuple[str, bool]]]:
    """Subject → (severity, adjustment) of each complaint counted in the month."""
    key = complaints.c.provider_id if level == "provider" else complaints.c.outlet_id
    query = select(key, complaints.c.severity, complaints.c.adjustment).where(
        complaints.c.maker == maker, complaints.c.month == month, key.is_not(None),
        _upto(complaints, "counted_position", through),
    )
    out: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for subject, severity, adjustment in (await conn.execute(query)).all():
        out[subject].append((severity, bool(adjustment)))
    return out


async def _closures(conn: AsyncConnection, maker: str) -> dict[str, int]:
    """Closed month → the log position its figures were taken at."""
    rows = await conn.execute(select(months.c.month, months.c.through_position).where(months.c.maker == maker))
    return {month: through for month, through in rows.all()}


async def _repair_rows(conn: AsyncConnection, maker: str, month: str, through: int | None) -> list[dict[str, Any]]:
    """The maker's repairs that count in `month`: its own (up to `through`) and those of closed
    months applied after their figures were taken (a late repair counts in the next open month)."""
    closures = await _closures(conn, maker)
    late = [and_(orders.c.repaired_month == c, orders.c.repaired_position > t) for c, t in closures.items() if c < month]
    query = select(orders).where(
        orders.c.maker == maker, or_(orders.c.repaired_month == month, *late), _upto(orders, "repaired_position", through),
    )
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    return [r for r in rows if counting.counted_in(r["repaired_month"], r["repaired_position"], closures) == month]


async def _repairs(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None
) -> dict[str, set[str]]:
    """Subject → the orders it repaired that count in the month (China time)."""
    key = "provider_id" if level == "provider" else "outlet_id"
    out: dict[str, set[str]] = defaultdict(set)
    for row in await _repair_rows(conn, maker, month, through):
        if row[key] is not None:
            out[row[key]].add(row["order_id"])
    return out


async def _previous_avgs(
    conn: AsyncConnection, maker: str, month: str, level: Level, policy: Policy
) -> dict[str, Fraction | None]:
    prev = previous_month(month)
    stored = await frozen(conn, maker, prev)
    if stored is not None:
        return {s["id"]: parse_fraction(s["avg_exact"]) for s in stored if s["level"] == level}
    forms = await _forms(conn, maker, prev, level, None)
    repairs = await _repairs(conn, maker, prev, level, None)
    return {
        subject: satisfaction(_scored(forms.get(subject, [])), repairs.get(subject, set()), policy.n_basis).avg
        for subject in set(forms) | set(repairs)
    }


def _scored(items: list[tuple[Form, bool]]) -> list[Form]:
    return scored_forms(f for f, _ in items)


async def compute(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None = None, policy: Policy | None = None
) -> dict[str, MonthScore]:
    """Live figures of an (open) month, counting only rows applied up to `through` when given."""
    policy = policy or await policy_for(conn, maker)
    forms = await _forms(conn, maker, month, level, through)
    counted = await _complaints(conn, maker, month, level, through)
    repairs = await _repairs(conn, maker, month, level, through)
    subjects = set(forms) | set(counted) | set(repairs)
    previous = await _previous_avgs(conn, maker, month, level, policy)
    out: dict[str, MonthScore] = {}
    for subject in sorted(subjects):
        items = forms.get(subject, [])
        chosen = {(f.order_id, f.channel) for f in _scored(items)}
        late_forms = sum(1 for f, adj in items if adj and (f.order_id, f.channel) in chosen)
        filed = counted.get(subject, [])
        adjustments = {"late_reviews": late_forms, "late_complaints": sum(1 for _, adj in filed if adj)}
        out[subject] = month_score(
            [f for f, _ in items], [severity for severity, _ in filed], previous.get(subject), policy, adjustments,
            repairs.get(subject, set()),
        )
    return out


def entries(level: Level, scores: dict[str, MonthScore]) -> list[dict[str, Any]]:
    return [{"level": level, "id": subject, **score.to_json()} for subject, score in sorted(scores.items())]


async def sheet(conn: AsyncConnection, maker: str, month: str, level: Level) -> Sheet:
    stored = await frozen(conn, maker, month)
    if stored is not None:
        return Sheet(maker, month, level, True, {s["id"]: s for s in stored if s["level"] == level})
    live = entries(level, await compute(conn, maker, month, level))
    return Sheet(maker, month, level, False, {s["id"]: s for s in live})


async def makers_in(conn: AsyncConnection, month: str) -> list[str]:
    """Makers with anything counted in (or frozen for) the month."""
    found: set[str] = set()
    for table, column in ((reviews, reviews.c.month), (complaints, complaints.c.month), (orders, orders.c.repaired_month)):
        rows = await conn.execute(select(table.c.maker).where(column == month).distinct())
        found |= {r[0] for r in rows if r[0]}
    found |= {r[0] for r in await conn.execute(select(months.c.maker).where(months.c.month == month))}
    return sorted(found)


async def provider_months(conn: AsyncConnection, provider_id: str) -> list[tuple[str, str]]:
    """(maker, month) pairs in which the provider has anything counted, repaired or frozen."""
    pairs: set[tuple[str, str]] = set()
    queries = (
        select(reviews.c.maker, reviews.c.month).where(reviews.c.provider_id == provider_id),
        select(complaints.c.maker, complaints.c.month).where(
            and_(complaints.c.provider_id == provider_id, complaints.c.month.is_not(None))
        ),
        select(orders.c.maker, orders.c.repaired_month).where(
            and_(orders.c.provider_id == provider_id, orders.c.repaired_month.is_not(None))
        ),
    )
    for query in queries:
        pairs |= {(r[0], r[1]) for r in (await conn.execute(query.distinct())).all()}
    for maker, month, scores in (await conn.execute(select(months.c.maker, months.c.month, months.c.scores))).all():
        if any(s["level"] == "provider" and s["id"] == provider_id for s in scores):
            pairs.add((maker, month))
    return sorted(pairs, key=lambda p: (p[1], p[0]))


async def late_items(conn: AsyncConnection, maker: str, month: str) -> list[dict[str, Any]]:
    """Forms, complaints and repairs of a maker that belong to `month` but count in a later one
    (entered after it closed), and those counted in `month` that belong to an earlier, closed one."""
    out: list[dict[str, Any]] = []
    for kind, table in (("review", reviews), ("complaint", complaints)):
        late = or_(
            and_(table.c.natural_month == month, table.c.month.is_not(None), table.c.month != month),
            and_(table.c.month == month, table.c.natural_month != month),
        )
        for row in (await conn.execute(select(table).where(table.c.maker == maker, late))).mappings():
            ref = f"{row['order_id']}:{row['channel']}" if kind == "review" else row["complaint_id"]
            out.append({
                "kind": kind, "ref": ref, "order_id": None if row["order_id"].startswith("complaint:") else row["order_id"],
                "channel": row["channel"], "provider_id": row["provider_id"], "outlet_id": row["outlet_id"],
                "belongs_to": row["natural_month"], "counted_in": row["month"],
            })
    closures = await _closures(conn, maker)
    belonging = select(orders).where(orders.c.maker == maker, orders.c.repaired_month == month,
                                     orders.c.repaired_position > closures.get(month, -1))
    repairs = [dict(r) for r in (await conn.execute(belonging)).mappings()] if month in closures else []
    repairs += [r for r in await _repair_rows(conn, maker, month, None) if r["repaired_month"] != month]
    for repair in repairs:
        out.append({
            "kind": "repair", "ref": repair["order_id"], "order_id": repair["order_id"], "channel": None,
            "provider_id": repair["provider_id"], "outlet_id": repair["outlet_id"], "belongs_to": repair["repaired_month"],
            "counted_in": counting.counted_in(repair["repaired_month"], repair["repaired_position"], closures),
        })
    return sorted(out, key=lambda item: (item["belongs_to"], item["counted_in"], item["kind"], item["ref"]))


async def call_backs(conn: AsyncConnection, maker: str, week: str, key: bytes) -> dict[str, Any]:
    """The week's call-back list of a maker: per provider, the drawn share of the customer forms
    recorded that week (China time), each with whether supervision has called back yet and
    whether that call-back contradicts the form."""
    policy = await policy_for(conn, maker)
    query = select(reviews).where(
        reviews.c.maker == maker, reviews.c.reviewed_at >= week_start(week), reviews.c.reviewed_at < week_end(week),
        reviews.c.channel == "feedback_form",
    )
    week_forms = {row["order_id"]: dict(row) for row in (await conn.execute(query)).mappings()}
    by_provider: dict[str, list[str]] = defaultdict(list)
    for order_id, row in week_forms.items():
        by_provider[row["provider_id"]].append(order_id)
    drawn = sampling.call_back_list(key, week, by_provider, policy.call_back_percent)
    picked = [order_id for ids in drawn.values() for order_id in ids]
    answered_query = select(reviews).where(reviews.c.order_id.in_(picked), reviews.c.channel == "call_back")
    answered = {row["order_id"]: dict(row) for row in (await conn.execute(answered_query)).mappings()}
    names_query = select(orders.c.order_id, orders.c.customer_name).where(orders.c.order_id.in_(picked))
    names = {r[0]: r[1] for r in (await conn.execute(names_query)).all()}
    providers = []
    for provider, ids in drawn.items():
        items = []
        for order_id in ids:
            form, back = week_forms[order_id], answered.get(order_id)
            items.append({
                "order_id": order_id, "outlet_id": form["outlet_id"], "customer_name": names.get(order_id, ""),
                "form_recorded_at": form["reviewed_at"], "called_back": back is not None,
                "contradicts": None if back is None else contradicts(_form(form), _form(back)),
            })
        providers.append({"provider_id": provider, "forms": len(by_provider[provider]), "drawn": len(ids), "items": items})
    return {"maker": maker, "week": week, "call_back_percent": policy.call_back_percent, "providers": providers}


def _form(row: RowMapping | dict[str, Any]) -> Form:
    return Form(row["order_id"], row["channel"], row["timeliness"], row["quality"], row["attitude"])
