"""Pricing one repaired order under a fee standard: pure, integer fen, total = sum of lines.

Each line carries what the standard gives for the claim (`claimed_fen`) and what would be paid
(`amount_fen`); they differ where a rule of `domain.review` rejects the line (a non-original part)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from libs.events.catalog import PartUsed, Payer, SettlementLine
from libs.events.errors import InvalidInput
from services.settlement.domain.returns import PartsReturns, parts_with_returns
from services.settlement.domain.review import NON_ORIGINAL, claimed, original_parts_only, rule_rejected
from services.settlement.domain.standards import FeeStandard


class PricingError(InvalidInput):
    """The standard cannot price this order (e.g. no labour rate for its product category)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field)


@dataclass(frozen=True)
class RepairFacts:
    """What settlement needs to know about a repaired order (from intake's and dispatch's events)."""

    maker: str
    provider_id: str
    category: str
    serial: str
    in_warranty: bool
    county: str
    repaired_at: datetime
    labour_hours: Decimal
    parts: tuple[PartUsed, ...] = ()


@dataclass(frozen=True)
class Proposal:
    payer: Payer
    standard_id: str
    lines: tuple[SettlementLine, ...]

    @property
    def total_fen(self) -> int:
        """What would be paid: the approved amounts (a rule-rejected line adds 0)."""
        return sum(line.amount_fen for line in self.lines)

    @property
    def claimed_fen(self) -> int:
        return sum(claimed(line) for line in self.lines)


def payer_for(facts: RepairFacts, standard: FeeStandard) -> Payer:
    """Out-of-warranty work is the customer's; in-warranty work the maker's, or the contract's."""
    if not facts.in_warranty:
        return "customer"
    return "lump_sum" if standard.kind == "lump_sum" else "maker"


def fen(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_UP))


def part_line(part: PartUsed, standard: FeeStandard) -> SettlementLine:
    """At cost, no markup: the reported unit cost, never above the price list."""
    listed = standard.parts_price_list.get(part.part_no)
    unit, note = part.unit_cost_fen, "at cost"
    if listed is not None and part.unit_cost_fen > listed:
        unit, note = listed, f"capped at price list (reported {part.unit_cost_fen} fen)"
    elif listed is None:
        note = "at cost, not on price list"
    label = f"{part.part_no} {part.name}".strip()
    return SettlementLine(
        kind="part", description=f"part {label}, {note}", quantity=Decimal(part.quantity),
        unit_fen=unit, amount_fen=unit * part.quantity, claimed_fen=unit * part.quantity,
    )


def ruled_part_line(part: PartUsed, standard: FeeStandard, payer: Payer) -> SettlementLine:
    """The part's line, rejected when a rule says the maker does not reimburse it."""
    line = part_line(part, standard)
    why = original_parts_only(part, payer)
    return line if why is None else rule_rejected(line, NON_ORIGINAL, why)


def propose(facts: RepairFacts, standard: FeeStandard, distance_km: int | None = None,
            returns: PartsReturns | None = None) -> Proposal:
    """The settlement the standard gives for these facts (returnable parts under the maker's
    return policy, domain/returns.py, when `returns` is known)."""
    rate = standard.labour_rate(facts.category)
    if rate is None:
        raise PricingError("labour_fen_per_hour", f"standard {standard.standard_id} has no labour rate for {facts.category!r}")
    if distance_km is None:
        distance_km = standard.travel.county_km.get(facts.county)
    travel_fen, travel_note = standard.travel.fee(distance_km)
    labour_fen = fen(facts.labour_hours * rate)
    payer = payer_for(facts, standard)
    lines = [
        SettlementLine(kind="travel", description=travel_note, quantity=Decimal(1), unit_fen=travel_fen,
                       amount_fen=travel_fen, claimed_fen=travel_fen),
        SettlementLine(
            kind="labour", description=f"labour {facts.category}, {facts.labour_hours} h",
            quantity=facts.labour_hours, unit_fen=rate, amount_fen=labour_fen, claimed_fen=labour_fen,
        ),
        *parts_with_returns(facts.parts, [ruled_part_line(p, standard, payer) for p in facts.parts], returns),
    ]
    return Proposal(payer, standard.standard_id, tuple(lines))
