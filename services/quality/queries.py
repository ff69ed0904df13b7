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

from sqlalchemy import ColumnElement, Table, and_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.chinatime import previous_month
from services.quality.domain.policy import Policy, default_policy
from services.quality.domain.scoring import (
    Form,
    MonthScore,
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
    return Policy.from_json(row[0]) if row else default_policy()


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
        form = Form(row["order_id"], row["channel"], row["timeliness"], row["quality"], row["attitude"])
        out[row[key]].append((form, bool(row["adjustment"])))
    return out


async def _complaints(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None
) -> dict[str, list[bool]]:
    key = complaints.c.provider_id if level == "provider" else complaints.c.outlet_id
    query = select(key, complaints.c.adjustment).where(
        complaints.c.maker == maker, complaints.c.month == month, key.is_not(None),
        _upto(complaints, "counted_position", through),
    )
    out: dict[str, list[bool]] = defaultdict(list)
    for subject, adjustment in (await conn.execute(query)).all():
        out[subject].append(bool(adjustment))
    return out


async def _repairers(conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None) -> set[str]:
    key = orders.c.provider_id if level == "provider" else orders.c.outlet_id
    query = select(key).where(
        orders.c.maker == maker, orders.c.repaired_month == month, key.is_not(None),
        _upto(orders, "repaired_position", through),
    )
    return {r[0] for r in (await conn.execute(query)).all()}


async def _previous_avgs(conn: AsyncConnection, maker: str, month: str, level: Level) -> dict[str, Fraction | None]:
    prev = previous_month(month)
    stored = await frozen(conn, maker, prev)
    if stored is not None:
        return {s["id"]: parse_fraction(s["avg_exact"]) for s in stored if s["level"] == level}
    forms = await _forms(conn, maker, prev, level, None)
    return {subject: satisfaction(_scored(items)).avg for subject, items in forms.items()}


def _scored(items: list[tuple[Form, bool]]) -> list[Form]:
    return scored_forms(f for f, _ in items)


async def compute(
    conn: AsyncConnection, maker: str, month: str, level: Level, through: int | None = None, policy: Policy | None = None
) -> dict[str, MonthScore]:
    """Live figures of an (open) month, counting only rows applied up to `through` when given."""
    policy = policy or await policy_for(conn, maker)
    forms = await _forms(conn, maker, month, level, through)
    counted = await _complaints(conn, maker, month, level, through)
    subjects = set(forms) | set(counted) | await _repairers(conn, maker, month, level, through)
    previous = await _previous_avgs(conn, maker, month, level)
    out: dict[str, MonthScore] = {}
    for subject in sorted(subjects):
        items = forms.get(subject, [])
        chosen = {(f.order_id, f.channel) for f in _scored(items)}
        late_forms = sum(1 for f, adj in items if adj and (f.order_id, f.channel) in chosen)
        adjustments = {"late_reviews": late_forms, "late_complaints": sum(counted.get(subject, []))}
        out[subject] = month_score(
            [f for f, _ in items], len(counted.get(subject, [])), previous.get(subject), policy, adjustments
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
