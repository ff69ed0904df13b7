"""The monthly performance score of a service provider (seed 004), as pure functions.

Satisfaction: each feedback form grades timeliness, repair quality and attitude A–E =
+2/+1/0/−1/−2. Over a month, `n` = the month's repairs (本月维修工作项数; a repair with
no form contributes 0 points, so withholding a form no longer shrinks `n` — a withheld
negative form still scores 0 instead of its points, which form coverage and the call-backs
expose) — or, if the maker's policy says `n_basis: forms`, the scored forms; `total` = the
three items of the scored forms, `avg = total / n`; form coverage = forms / repairs.
If `avg − previous avg > 0` the provider earns
the maker's improvement reward, `< 0` the decline penalty, `= 0` neither. Every item
of every form at +2 earns an extra reward; every item at −2 an extra penalty.

Complaints: each weighs its severity's weight in the maker's policy (default 1 each, so
the points are the count, as in the seed's table); the month's points fall into one of
the maker's bands (seed: 0 → +5000 yuan,
1–5 → 0, 6–10 → −3000, 11–15 → −5000, more → −10000); at the policy's threshold
(seed example: 30) the head of the service department also faces administrative action.

Verification (seed 004: 抽查、核实): a customer's feedback form with a supervisor's call-back
on the same order is verified; the call-back contradicts it when any item's grade differs,
and then the call-back is the form scored (`scored_forms`).

Arithmetic is exact: averages and deltas are `Fraction`s, compared exactly and shown as
`Decimal` rounded half-even to 4 places only at the edge. Money is integer fen.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Literal

from services.quality.domain.policy import NBasis, Policy, SeverityWeights

GRADE_POINTS: dict[str, int] = {"A": 2, "B": 1, "C": 0, "D": -1, "E": -2}


def review_points(timeliness: str, quality: str, attitude: str) -> int:
    """A form's points: the sum of its three item grades."""
    return GRADE_POINTS[timeliness] + GRADE_POINTS[quality] + GRADE_POINTS[attitude]
MAX_POINTS, MIN_POINTS = 2, -2
# a supervisor's call-back verifies the customer's form (seed 004): where both exist it is the one scored
CHANNEL_PRECEDENCE: dict[str, int] = {"call_back": 0, "feedback_form": 1}

Special = Literal["all_max", "all_min"]


@dataclass(frozen=True)
class Form:
    """One feedback form or call-back record as scored: an order, a channel, three grades."""

    order_id: str
    channel: str
    timeliness: str
    quality: str
    attitude: str

    @property
    def items(self) -> tuple[int, int, int]:
        return GRADE_POINTS[self.timeliness], GRADE_POINTS[self.quality], GRADE_POINTS[self.attitude]

    @property
    def points(self) -> int:
        return sum(self.items)


def scored_forms(forms: Iterable[Form]) -> list[Form]:
    """One form per order: the call-back where there is one, else the customer's form.

    Chosen by precedence, never by arrival, so the result does not depend on event order.
    """
    best: dict[str, Form] = {}
    for form in forms:
        held = best.get(form.order_id)
        if held is None or _rank(form) < _rank(held):
            best[form.order_id] = form
    return [best[k] for k in sorted(best)]


def _rank(form: Form) -> tuple[int, str, str, str, str]:
    return (CHANNEL_PRECEDENCE.get(form.channel, 9), form.channel, form.timeliness, form.quality, form.attitude)


@dataclass(frozen=True)
class Satisfaction:
    n: int
    total: int
    forms: int = 0
    repairs: int = 0

    @property
    def avg(self) -> Fraction | None:
        return Fraction(self.total, self.n) if self.n else None


def satisfaction(forms: Sequence[Form], repairs: Collection[str] = (), basis: NBasis = "forms") -> Satisfaction:
    """`total` points of the scored forms (each contributes its three items) over `n`: the
    repairs (every repaired order of the month, and any order a counted form judges) when
    `basis` is "repairs", the forms when "forms"."""
    repaired = len(set(repairs) | {f.order_id for f in forms})
    total = sum(f.points for f in forms)
    return Satisfaction(repaired if basis == "repairs" else len(forms), total, len(forms), repaired)


def contradicts(form: Form, call_back: Form) -> bool:
    """A call-back contradicts the customer's form when any of the three grades differs."""
    return form.items != call_back.items


@dataclass(frozen=True)
class Verification:
    """Of the month's customer forms: how many supervision phoned back, how many of those it contradicted."""

    forms: int
    verified: int
    contradicted: int

    @property
    def verified_share(self) -> Fraction | None:
        return Fraction(self.verified, self.forms) if self.forms else None

    @property
    def contradicted_share(self) -> Fraction | None:
        return Fraction(self.contradicted, self.verified) if self.verified else None


def verification(forms: Iterable[Form]) -> Verification:
    by_order: dict[str, dict[str, Form]] = {}
    for form in forms:
        by_order.setdefault(form.order_id, {})[form.channel] = form
    customer = [(f["feedback_form"], f.get("call_back")) for f in by_order.values() if "feedback_form" in f]
    checked = [(f, c) for f, c in customer if c is not None]
    return Verification(len(customer), len(checked), sum(1 for f, c in checked if contradicts(f, c)))


def complaint_points(severities: Iterable[str], weights: SeverityWeights) -> int:
    """The month's complaints weighed by severity (seed 004: 次数和严重程度)."""
    table = weights.model_dump()
    return sum(int(table[s]) for s in severities)


def special_case(forms: Sequence[Form]) -> Special | None:
    """all_max: every item of every form at +2; all_min: every item at −2; needs at least one form."""
    if not forms:
        return None
    items = [i for f in forms for i in f.items]
    if all(i == MAX_POINTS for i in items):
        return "all_max"
    if all(i == MIN_POINTS for i in items):
        return "all_min"
    return None


def improvement_amount(avg: Fraction | None, previous: Fraction | None, policy: Policy) -> int:
    """Reward when the month's avg beats the previous one, penalty when below, 0 when equal or
    when either month had no reviewed repair (there is nothing to compare)."""
    if avg is None or previous is None or avg == previous:
        return 0
    return policy.improvement_reward_fen if avg > previous else -policy.decline_penalty_fen


def special_amount(special: Special | None, policy: Policy) -> int:
    if special == "all_max":
        return policy.all_max_reward_fen
    if special == "all_min":
        return -policy.all_min_penalty_fen
    return 0


@dataclass(frozen=True)
class BandResult:
    index: int
    label: str
    amount_fen: int
    admin_action: bool


def complaint_band(count: int, policy: Policy) -> BandResult:
    """The band a month's complaint points (the count, with weights 1) fall in, its amount and
    the administrative-action flag."""
    if count < 0:
        raise ValueError("a complaint count cannot be negative")
    low = 0
    for index, band in enumerate(policy.complaint_bands):
        if band.max_complaints is None or count <= band.max_complaints:
            label = _band_label(low, band.max_complaints)
            return BandResult(index, label, band.amount_fen, count >= policy.admin_action_threshold)
        low = band.max_complaints + 1
    raise AssertionError("the last band has no upper edge")  # pragma: no cover - Policy guarantees it


def _band_label(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def decimal4(value: Fraction | None) -> str | None:
    """An exact fraction shown as a decimal string, half-even to 4 places (None stays None)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class MonthScore:
    """One provider's (or outlet's) figures for one month."""

    n: int
    total: int
    avg: Fraction | None
    previous_avg: Fraction | None
    delta: Fraction | None
    special: Special | None
    improvement_fen: int
    special_fen: int
    complaints: int
    band: BandResult
    adjustments: dict[str, int] = field(default_factory=dict)
    complaint_points: int = 0
    n_basis: NBasis = "forms"
    forms: int = 0
    repairs: int = 0
    checked: Verification = Verification(0, 0, 0)

    @property
    def coverage(self) -> Fraction | None:
        """Scored forms / repairs (None without repairs)."""
        return Fraction(self.forms, self.repairs) if self.repairs else None

    @property
    def satisfaction_fen(self) -> int:
        return self.improvement_fen + self.special_fen

    @property
    def amount_fen(self) -> int:
        return self.satisfaction_fen + self.band.amount_fen

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "total": self.total,
            "avg": decimal4(self.avg),
            "avg_exact": _fraction(self.avg),
            "previous_avg": decimal4(self.previous_avg),
            "previous_avg_exact": _fraction(self.previous_avg),
            "delta": decimal4(self.delta),
            "special": self.special,
            "improvement_fen": self.improvement_fen,
            "special_fen": self.special_fen,
            "satisfaction_fen": self.satisfaction_fen,
            "n_basis": self.n_basis,
            "repairs": self.repairs,
            "forms": self.forms,
            "form_coverage": decimal4(self.coverage),
            "forms_checkable": self.checked.forms,
            "verified": self.checked.verified,
            "verified_share": decimal4(self.checked.verified_share),
            "contradicted": self.checked.contradicted,
            "contradicted_share": decimal4(self.checked.contradicted_share),
            "complaints": self.complaints,
            "complaint_points": self.complaint_points,
            "complaint_band": self.band.label,
            "complaint_fen": self.band.amount_fen,
            "admin_action": self.band.admin_action,
            "amount_fen": self.amount_fen,
            "adjustments": dict(sorted(self.adjustments.items())),
        }


def _fraction(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def parse_fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def month_score(
    forms: Iterable[Form],
    complaints: Sequence[str],
    previous_avg: Fraction | None,
    policy: Policy,
    adjustments: dict[str, int] | None = None,
    repairs: Collection[str] = (),
) -> MonthScore:
    """The whole month: forms (any order, several per order allowed), the severities of its
    complaints, the previous month's avg (None when it had nothing to average), the maker's
    policy and the orders repaired in the month (`n` under the policy's basis)."""
    given = list(forms)
    chosen = scored_forms(given)
    sat = satisfaction(chosen, repairs, policy.n_basis)
    special = special_case(chosen)
    delta = None if sat.avg is None or previous_avg is None else sat.avg - previous_avg
    points = complaint_points(complaints, policy.complaint_weights)
    return MonthScore(
        n=sat.n,
        total=sat.total,
        avg=sat.avg,
        previous_avg=previous_avg,
        delta=delta,
        special=special,
        improvement_fen=improvement_amount(sat.avg, previous_avg, policy),
        special_fen=special_amount(special, policy),
        complaints=len(complaints),
        band=complaint_band(points, policy),
        adjustments=adjustments or {},
        complaint_points=points,
        n_basis=policy.n_basis,
        forms=sat.forms,
        repairs=sat.repairs,
        checked=verification(given),
    )
