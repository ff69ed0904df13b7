"""Anomaly rules for the maker's supervisors (seed 001's named abuses): pure functions.

Each flag carries a sentence saying why, with the figures, so a supervisor can act on
it without opening the order. Flags are computed at query time from repair facts and
the fee standards, never stored: a new standard or a later repair changes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from libs.events.catalog import PartUsed
from libs.events.chinatime import local_day
from services.settlement.domain.standards import FeeStandard, in_force

REPEAT_WINDOW = timedelta(days=30)  # 重复维修: the same unit back within 30 days
LABOUR_FACTOR = Decimal(2)  # "far above the norm": more than twice the category's normal hours

FlagKind = Literal["non_original_part", "part_above_price_list", "repeat_repair", "labour_above_norm"]


@dataclass(frozen=True)
class Repair:
    order_id: str
    maker: str
    provider_id: str
    category: str
    serial: str
    repaired_at: datetime
    labour_hours: Decimal
    parts: tuple[PartUsed, ...]


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    order_id: str
    maker: str
    provider_id: str
    repaired_at: datetime
    reason: str


def part_flags(repair: Repair, standard: FeeStandard | None) -> list[Flag]:
    out: list[Flag] = []
    for part in repair.parts:
        if not part.original:
            out.append(_flag(repair, "non_original_part",
                             f"part {part.part_no} x{part.quantity} is not an original part (原厂配件 required)"))
        listed = standard.parts_price_list.get(part.part_no) if standard else None
        if standard is not None and listed is not None and part.unit_cost_fen > listed:
            out.append(_flag(repair, "part_above_price_list",
                             f"part {part.part_no} reported at {part.unit_cost_fen} fen, above the price list's "
                             f"{listed} fen (standard {standard.standard_id}); reimbursed at the list price"))
    return out


def labour_flag(repair: Repair, standard: FeeStandard | None) -> list[Flag]:
    norm = standard.labour_norm(repair.category) if standard else None
    if standard is None or norm is None or repair.labour_hours <= norm * LABOUR_FACTOR:
        return []
    ratio = (repair.labour_hours / norm).quantize(Decimal("0.1"))
    return [_flag(repair, "labour_above_norm",
                  f"labour {repair.labour_hours} h is {ratio}x the {repair.category} norm of {norm} h "
                  f"(flagged above {LABOUR_FACTOR}x; standard {standard.standard_id})")]


def repeat_flags(repairs: Iterable[Repair]) -> list[Flag]:
    """Flag the later of two repairs of one product serial (per maker) within the window."""
    by_unit: dict[tuple[str, str], list[Repair]] = defaultdict(list)
    for repair in repairs:
        if repair.serial:
            by_unit[(repair.maker, repair.serial)].append(repair)
    out: list[Flag] = []
    for unit in by_unit.values():
        unit.sort(key=lambda r: (r.repaired_at, r.order_id))
        for before, after in pairwise(unit):
            gap = after.repaired_at - before.repaired_at
            if gap <= REPEAT_WINDOW:
                days = gap.total_seconds() / 86400
                out.append(_flag(after, "repeat_repair",
                                 f"serial {after.serial} repaired again {days:.1f} days after order {before.order_id} "
                                 f"({local_day(before.repaired_at)}, provider {before.provider_id})"))
    return out


def flags(repairs: Sequence[Repair], standards: Sequence[FeeStandard]) -> list[Flag]:
    """Every flag over these repairs, newest repair first."""
    out = repeat_flags(repairs)
    for repair in repairs:
        standard = in_force(standards, repair.maker, repair.provider_id, local_day(repair.repaired_at))
        out += part_flags(repair, standard) + labour_flag(repair, standard)
    return sorted(out, key=lambda f: (f.repaired_at, f.order_id, f.kind, f.reason), reverse=True)


def _flag(repair: Repair, kind: FlagKind, reason: str) -> Flag:
    return Flag(kind, repair.order_id, repair.maker, repair.provider_id, repair.repaired_at, reason)
