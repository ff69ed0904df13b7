"""Flags on fitted parts for the maker's finance and supervisors (seed 001's named abuses:
padded parts "附加备件", substandard parts passed off as good "次要部件冒充好零件"; seed 002:
original parts only). Pure; computed at query time from the facts the read model holds,
so a later receipt, catalogue entry or return clears or raises a flag without a rebuild.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from libs.events.chinatime import local_day
from services.parts.domain.catalogue import CostVersion, cost_in_force
from services.parts.domain.returns import overdue

FlagKind = Literal["never_received", "above_cost", "not_catalogued", "return_overdue"]


@dataclass(frozen=True)
class Fit:
    order_id: str
    maker: str
    provider_id: str
    outlet_id: str
    part_no: str
    quantity: int
    unit_cost_fen: int
    original: bool
    repaired_at: datetime


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    order_id: str
    maker: str
    provider_id: str
    outlet_id: str
    part_no: str
    repaired_at: datetime
    reason: str


def _flag(fit: Fit, kind: FlagKind, reason: str) -> Flag:
    return Flag(kind, fit.order_id, fit.maker, fit.provider_id, fit.outlet_id, fit.part_no, fit.repaired_at, reason)


def never_received(fit: Fit, received: Collection[tuple[str, str, str]]) -> list[Flag]:
    """An original part fitted at an outlet that never received that part: where did it come from?"""
    if not fit.original or (fit.outlet_id, fit.maker, fit.part_no) in received:
        return []
    return [_flag(fit, "never_received", f"original part {fit.part_no} x{fit.quantity} fitted at outlet "
                  f"{fit.outlet_id}, which never received it (no receipt or parts order of it)")]


def above_cost(fit: Fit, costs: Sequence[CostVersion]) -> list[Flag]:
    """A fitted part reported above the catalogue cost in force on the repair day."""
    cost = cost_in_force(costs, local_day(fit.repaired_at))
    if cost is None or fit.unit_cost_fen <= cost:
        return []
    return [_flag(fit, "above_cost", f"part {fit.part_no} reported at {fit.unit_cost_fen} fen, above its "
                  f"catalogue cost of {cost} fen on {local_day(fit.repaired_at)} (parts at cost, seed 000)")]


def not_catalogued(fit: Fit, catalogued: Collection[tuple[str, str]], makers: Collection[str]) -> list[Flag]:
    """A part the maker's catalogue does not list (only for makers that keep a catalogue)."""
    if fit.maker not in makers or (fit.maker, fit.part_no) in catalogued:
        return []
    return [_flag(fit, "not_catalogued", f"part {fit.part_no} is not in the catalogue of {fit.maker}")]


def return_flags(fit: Fit, within_days: int | None, received: bool, now: datetime) -> list[Flag]:
    if not overdue(fit.repaired_at, within_days, received, now):
        return []
    days = within_days or "the default"
    return [_flag(fit, "return_overdue", f"faulty {fit.part_no} of order {fit.order_id} not received by "
                  f"{fit.maker} within {days} days of the repair (旧件返还)")]


@dataclass(frozen=True)
class Facts:
    """What the flags are computed from."""

    received: Collection[tuple[str, str, str]]  # (outlet, maker, part_no) ever received there
    catalogued: Collection[tuple[str, str]]  # (maker, part_no)
    costs: Mapping[tuple[str, str], Sequence[CostVersion]]
    returnable: Mapping[tuple[str, str], int | None]  # (maker, part_no) → return limit in days
    returned: Collection[tuple[str, str]]  # (order_id, part_no) whose faulty part the maker received
    makers: Collection[str]  # makers that keep a catalogue


def flags(fits: Iterable[Fit], facts: Facts, now: datetime) -> list[Flag]:
    """Every flag over these fits, newest repair first."""
    out: list[Flag] = []
    for fit in fits:
        key = (fit.maker, fit.part_no)
        out += never_received(fit, facts.received) + above_cost(fit, facts.costs.get(key, ()))
        out += not_catalogued(fit, facts.catalogued, facts.makers)
        if key in facts.returnable:
            out += return_flags(fit, facts.returnable[key], (fit.order_id, fit.part_no) in facts.returned, now)
    return sorted(out, key=lambda f: (f.repaired_at, f.order_id, f.kind, f.part_no), reverse=True)
