"""Warranty (三包) determination: which maker's policy applies and whether a product is covered.

A maker sets its own terms per product category (e.g. Gree air conditioners: whole unit
6 years, free replacement 1 year). Coverage starts at the purchase date; without an
invoice date the common practice is the factory date plus a grace period (出厂日期后推
3 个月). The decision carries the rule text that decided it, so an auditor can read why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from libs.events import catalog


class Terms(BaseModel):
    """Months of cover for one product category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    whole_unit_months: int = Field(ge=0, le=240)
    replacement_months: int = Field(0, ge=0, le=240)


class MakerPolicy(BaseModel):
    """One maker's warranty policy (configurable through Settings.intake_warranty_policies)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    brands: tuple[str, ...] = ()
    terms: dict[str, Terms] = {}
    default: Terms = Terms(whole_unit_months=12, replacement_months=0)
    factory_grace_months: int = Field(3, ge=0, le=24)


_AIR = Terms(whole_unit_months=72, replacement_months=12)
DEFAULT_POLICIES: dict[str, MakerPolicy] = {
    "gree": MakerPolicy(name="gree-2026", brands=("格力", "gree"), terms={"air_conditioner": _AIR}),
    "midea": MakerPolicy(name="midea-2026", brands=("美的", "midea"), terms={"air_conditioner": _AIR}),
    "haier": MakerPolicy(name="haier-2026", brands=("海尔", "haier"), terms={"air_conditioner": _AIR}),
}
NATIONAL = MakerPolicy(name="national-default", terms={"air_conditioner": _AIR})


@dataclass(frozen=True)
class PolicyBook:
    """All makers' policies, found by brand."""

    policies: dict[str, MakerPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    @classmethod
    def from_json(cls, text: str) -> PolicyBook:
        """Built-in defaults, overridden maker by maker by a JSON document (empty = defaults)."""
        if not text.strip():
            return cls()
        raw = json.loads(text)
        return cls({**DEFAULT_POLICIES, **{k: MakerPolicy.model_validate(v) for k, v in raw.items()}})

    def maker_for(self, brand: str) -> tuple[str, MakerPolicy]:
        """The maker id and policy of a brand; an unknown brand is its own maker under the national default."""
        wanted = brand.strip().casefold()
        for maker, policy in self.policies.items():
            if wanted == maker or wanted in (b.casefold() for b in policy.brands):
                return maker, policy
        return wanted, NATIONAL


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's end (2024-02-29 + 12 → 2025-02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


def determine(policy: MakerPolicy, category: str, purchased: date | None, made: date | None,
              today: date) -> catalog.Warranty:
    """In or out of warranty today, with the rule that decided it."""
    terms = policy.terms.get(category, policy.default)
    label = f"{policy.name}/{category if category in policy.terms else '*'}"
    if purchased is not None:
        start, basis = purchased, f"purchase_date {purchased}"
    elif made is not None:
        start = add_months(made, policy.factory_grace_months)
        basis = f"factory_date {made} + {policy.factory_grace_months} months (no purchase date)"
    else:
        return catalog.Warranty(in_warranty=False, coverage="none", policy=policy.name,
                                rule=f"{label}: no purchase or factory date, treated as out of warranty")
    if today < add_months(start, terms.replacement_months):
        coverage, months = "replacement", terms.replacement_months
    elif today < add_months(start, terms.whole_unit_months):
        coverage, months = "whole_unit", terms.whole_unit_months
    else:
        return catalog.Warranty(
            in_warranty=False, coverage="none", policy=policy.name,
            rule=f"{label}: {basis}; whole-unit cover of {terms.whole_unit_months} months ended "
                 f"{add_months(start, terms.whole_unit_months)}",
        )
    return catalog.Warranty(
        in_warranty=True, coverage=coverage, policy=policy.name,
        rule=f"{label}: {basis}; {coverage} cover of {months} months until {add_months(start, months)}",
    )
