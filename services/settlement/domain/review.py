"""Line by line review of a proposal: the rules' decisions, then finance's (pure, integer fen).

A proposal prices each line of the claim under the fee standard (`claimed_fen`). Two kinds of
decision turn a claimed line into an approved one (`amount_fen`, what the settlement pays):

- a rule of settlement: a non-original part is not reimbursed by the maker (seed 002 requires
  原厂配件, seed 001 names 以次充好 an abuse). The line is `rejected` with `decided_by="rule"`
  and the rule's name; customer-paid work is the customer's business and is not touched.
- finance, per line, with a reason (partial approval, as warranty-claim systems do):
  `approved` (for a rule-rejected line: the override; the rule's name stays on the line),
  `reduced` to an amount below the claim, or `rejected` (0).

Lines finance does not name keep the proposal's decision and are recorded as decided by the
approving actor (rule-rejected lines stay `rule`). The settlement's total is the sum of the
approved amounts, so ledgers and balances keep adding `amount_fen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from libs.events.catalog import LineDecision, PartUsed, Payer, SettlementLine
from libs.events.errors import InvalidInput

RULE = "rule"  # decided_by of a line a rule decided
NON_ORIGINAL = "non_original_part"


@dataclass(frozen=True)
class LineReview:
    """Finance's decision on one line of the proposal (`line`: its 0-based position)."""

    line: int
    decision: LineDecision
    reason: str
    amount_fen: int | None = None  # `reduced` only: the approved amount


class ReviewError(InvalidInput):
    """A line decision that cannot apply to this proposal (422 naming the field)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field)


def claimed(line: SettlementLine) -> int:
    """What the line claimed (lines recorded before decisions claimed what they paid)."""
    return line.amount_fen if line.claimed_fen is None else line.claimed_fen


def original_parts_only(part: PartUsed, payer: Payer) -> str | None:
    """Why the maker does not reimburse this part, or None: only original parts (原厂配件) are
    reimbursed, on maker-paid and lump-sum work alike."""
    if part.original or payer == "customer":
        return None
    return f"part {part.part_no} is not an original part: not reimbursed (原厂配件 required; 以次充好)"


def rule_rejected(line: SettlementLine, rule: str, reason: str) -> SettlementLine:
    return line.model_copy(update={"amount_fen": 0, "decision": "rejected", "reason": reason, "decided_by": RULE,
                                   "rule": rule})


def review(lines: Sequence[SettlementLine], decisions: Sequence[LineReview], actor: str) -> tuple[SettlementLine, ...]:
    """The lines as approved: finance's decisions over the proposal's (each line named at most once)."""
    by_line: dict[int, LineReview] = {}
    for i, d in enumerate(decisions):
        if not 0 <= d.line < len(lines):
            raise ReviewError(f"lines.{i}.line", f"line {d.line} is not in the proposal (it has {len(lines)} lines)")
        if d.line in by_line:
            raise ReviewError(f"lines.{i}.line", f"line {d.line} is decided twice")
        if not d.reason.strip():
            raise ReviewError(f"lines.{i}.reason", "a line decision needs a reason")
        claim = claimed(lines[d.line])
        if d.decision == "reduced":
            if d.amount_fen is None or not 0 <= d.amount_fen < claim:
                raise ReviewError(f"lines.{i}.amount_fen",
                                  f"a reduced line needs amount_fen from 0 to below its claim of {claim} fen")
        elif d.amount_fen is not None:
            raise ReviewError(f"lines.{i}.amount_fen", f"amount_fen belongs to `reduced` decisions only, not {d.decision}")
        by_line[d.line] = d
    out = []
    for index, line in enumerate(lines):
        chosen = by_line.get(index)
        if chosen is None:
            out.append(line if line.decided_by == RULE else line.model_copy(update={"decided_by": actor}))
            continue
        claim = claimed(line)
        amount = {"approved": claim, "rejected": 0}.get(chosen.decision, chosen.amount_fen)
        out.append(line.model_copy(update={"claimed_fen": claim, "amount_fen": amount, "decision": chosen.decision,
                                           "reason": chosen.reason.strip(), "decided_by": actor}))
    return tuple(out)


def replay(draft: Sequence[SettlementLine], settled: Sequence[SettlementLine]) -> tuple[tuple[SettlementLine, ...], int]:
    """Finance's decisions of a settlement carried onto a draft proposal of the same facts (what-if):
    line by line where the kinds match, a rejection rejects, an approval approves (overriding a
    rule), a reduction keeps the same share of the draft's claim (half up). Returns the lines and
    how many decisions were carried."""
    out, carried = list(draft), 0
    for index, (new, old) in enumerate(zip(draft, settled, strict=False)):
        if old.decided_by in (None, RULE) or old.reason is None or new.kind != old.kind:
            continue  # approved as proposed (or a rule's decision, which the draft's own rules make)
        claim = claimed(new)
        if old.decision == "approved":
            amount = claim
        elif old.decision == "rejected":
            amount = 0
        else:
            share = Decimal(old.amount_fen) / Decimal(claimed(old)) if claimed(old) else Decimal(0)
            amount = int((claim * share).quantize(Decimal(1), ROUND_HALF_UP))
        out[index] = new.model_copy(update={"claimed_fen": claim, "amount_fen": amount, "decision": old.decision,
                                            "reason": old.reason, "decided_by": old.decided_by})
        carried += 1
    return tuple(out), carried
