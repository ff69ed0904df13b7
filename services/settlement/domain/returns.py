"""Defective-part returns (旧件返还) in settlement: the cost of a returnable part is paid
against the faulty part's return (issue 17, item 4). Pure: what the parts service recorded
(returnable in the catalogue; the return received) comes in as arguments.

Per maker, a policy says what happens while the faulty part is not back at the maker:
- "wait" (the default): the settlement waits; approving (or correcting) the order is refused
  (409, naming the parts) until every returnable part's faulty unit was received;
- "reduce": the order is settled now and each such part line is rejected by rule
  `faulty_part_not_returned` (0 fen, the claim kept, the reason on the line; finance may still
  approve it line by line, domain/review.py): the part's cost is withheld, not labour or travel.
A part line another rule already rejected (a non-original part) is left as it is and waits for nothing.
A return counts for the order and part number it names (the parts service checks its faulty
serial against the repair's when the repair recorded one); one received return covers the part.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from libs.events.catalog import PartCatalogued, PartUsed, Payload, SettlementLine
from libs.events.errors import InvalidInput
from services.settlement.domain.errors import SettlementRefused
from services.settlement.domain.review import RULE, claimed, rule_rejected

ReturnPolicy = Literal["wait", "reduce"]
DEFAULT_RETURN_POLICY: ReturnPolicy = "wait"
NOT_RETURNED = "faulty_part_not_returned"  # the rule's name on a withheld line


class ReturnPending(SettlementRefused):
    """A returnable part's faulty unit is not back, and the maker's policy is to wait (409)."""


@dataclass(frozen=True)
class PartsReturns:
    """For one order: its maker's policy, the returnable part numbers among its fitted parts and
    the part numbers whose faulty unit the maker received back."""

    policy: ReturnPolicy = DEFAULT_RETURN_POLICY
    returnable: frozenset[str] = frozenset()
    received: frozenset[str] = field(default_factory=frozenset)

    def outstanding(self, part: PartUsed) -> bool:
        """This fitted part is returnable and its faulty unit has not been received."""
        return part.part_no in self.returnable and part.part_no not in self.received


def policies_from(text: str) -> dict[str, ReturnPolicy]:
    """Settings.settlement_return_policies: JSON {maker: "wait" | "reduce"}; empty: every maker waits."""
    if not text.strip():
        return {}
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"settlement_return_policies is not JSON: {exc}", "settlement_return_policies") from None
    if not isinstance(found, dict) or any(v not in get_args(ReturnPolicy) for v in found.values()):
        raise InvalidInput('settlement_return_policies maps makers to "wait" or "reduce"', "settlement_return_policies")
    return {str(k): v for k, v in found.items()}


def policy_of(maker: str, policies: Mapping[str, ReturnPolicy]) -> ReturnPolicy:
    return policies.get(maker, DEFAULT_RETURN_POLICY)


def parts_with_returns(parts: Sequence[PartUsed], lines: Sequence[SettlementLine],
                       returns: PartsReturns | None) -> list[SettlementLine]:
    """The part lines (one per fitted part, same order) under the return policy: unchanged when
    every returnable part is back (or nothing is known of returns); under "wait" a ReturnPending
    naming the parts still out; under "reduce" those lines rejected by rule (0 fen)."""
    if returns is None:
        return list(lines)
    out = [i for i, part in enumerate(parts) if returns.outstanding(part) and lines[i].decided_by != RULE]
    if not out:
        return list(lines)
    if returns.policy == "wait":
        names = ", ".join(dict.fromkeys(parts[i].part_no for i in out))
        raise ReturnPending(f"settlement waits for the return of the faulty part(s) {names} (旧件返还)")
    return [_withheld(line) if i in out else line for i, line in enumerate(lines)]


def _withheld(line: SettlementLine) -> SettlementLine:
    return rule_rejected(line.model_copy(update={"claimed_fen": claimed(line)}), NOT_RETURNED,
                         "faulty part not returned to the maker: its cost is withheld (旧件返还)")



def returnable_in(history: Sequence[Payload]) -> bool:
    """A part's catalogue stream: returnable as its latest entry says (unknown part: not returnable)."""
    entries = [p for p in history if isinstance(p, PartCatalogued)]
    return bool(entries) and entries[-1].returnable
