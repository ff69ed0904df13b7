"""Fee standards (服务费用标准): what a maker pays a provider, versioned by effective date.

Two kinds, after seed 002:
- `per_order` (一单一结算): travel (差旅费) flat or by distance band, labour (人工费) per
  hour by product category, parts (材料费) reimbursed at cost with no markup, capped at
  the maker's parts price list (seed 000: the dealer must not profit on parts).
- `lump_sum` (总额控制): the maker pays `percent` of the dealer's annual sales for the
  year as one sum, "多不退、少不补". An in-warranty order under such a contract costs the
  maker nothing extra, so it settles with payer `lump_sum`: its lines are valued at the
  contract's reference rates and charged against the contract's budget (never paid out).
  Valuing the work instead of booking zeros is deliberate: seed 002 tells the dealer to
  bring "the year's service data and the costs it incurred" to renegotiate the
  percentage, and the consumption per contract is exactly that figure.

Out-of-warranty work is charged to the customer at the rates of the same standard (parts
still at cost): the provider bills the customer on site, so it moves no maker balance.

This module is pure: models and selection rules, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events.bounds import Fen, WindowDay

ANY_PROVIDER = "*"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistanceBand(_Model):
    up_to_km: int | None = Field(default=None, ge=0, description="upper bound; null = any distance beyond")
    fee_fen: Fen


class TravelFee(_Model):
    """Either a flat door fee or distance bands; `county_km` is the outlet's distance table."""

    flat_fen: Fen | None = None
    bands: list[DistanceBand] = []
    county_km: dict[str, int] = {}

    @model_validator(mode="after")
    def _one_rule(self) -> TravelFee:
        if (self.flat_fen is None) == (not self.bands):
            raise ValueError("give either flat_fen or bands, not both and not neither")
        bounds = [b.up_to_km for b in self.bands]
        if None in bounds[:-1] or bounds[:-1] != sorted(b for b in bounds[:-1] if b is not None):
            raise ValueError("bands must be in ascending up_to_km order; only the last may be open")
        return self

    def fee(self, distance_km: int | None) -> tuple[int, str]:
        """Travel fee in fen and how it was chosen."""
        if self.flat_fen is not None:
            return self.flat_fen, "door fee (flat)"
        if distance_km is None:
            return self.bands[0].fee_fen, "door fee, distance unknown: nearest band"
        for band in self.bands:
            if band.up_to_km is None or distance_km <= band.up_to_km:
                limit = f"≤{band.up_to_km} km" if band.up_to_km is not None else "beyond last band"
                return band.fee_fen, f"door fee {distance_km} km ({limit})"
        return self.bands[-1].fee_fen, f"door fee {distance_km} km (beyond last band)"


class FeeStandardCreate(_Model):
    """A new version of a maker's fee standard for one provider (or `*` = all its providers)."""

    maker: str = Field(min_length=1, max_length=100)
    provider_id: str = Field(min_length=1, max_length=100)
    effective_from: WindowDay
    kind: Literal["per_order", "lump_sum"]
    travel: TravelFee
    labour_fen_per_hour: dict[str, Fen] = Field(description="product category → fen per hour; '*' = any")
    labour_norm_hours: dict[str, Decimal] = Field(default={}, description="category → normal hours (anomaly check)")
    parts_price_list: dict[str, Fen] = Field(default={}, description="part_no → list price in fen")
    annual_sales_fen: Fen | None = Field(default=None, description="lump_sum: the dealer's annual sales")
    percent: Decimal | None = Field(default=None, gt=0, le=100, description="lump_sum: share of annual sales")

    @model_validator(mode="after")
    def _kind_fields(self) -> FeeStandardCreate:
        if any(v < 0 for v in self.labour_fen_per_hour.values()) or any(v < 0 for v in self.parts_price_list.values()):
            raise ValueError("rates and prices must not be negative")
        if any(v <= 0 for v in self.labour_norm_hours.values()):
            raise ValueError("labour norms must be positive")
        lump = self.annual_sales_fen is not None and self.percent is not None
        if self.kind == "lump_sum" and not lump:
            raise ValueError("a lump_sum standard needs annual_sales_fen and percent")
        if self.kind == "per_order" and (self.annual_sales_fen is not None or self.percent is not None):
            raise ValueError("annual_sales_fen and percent belong to lump_sum standards only")
        return self


class FeeStandard(FeeStandardCreate):
    """A stored version: immutable; a change is a new version."""

    standard_id: str
    seq: int
    recorded_at: datetime
    recorded_by: str

    def labour_rate(self, category: str) -> int | None:
        return self.labour_fen_per_hour.get(category, self.labour_fen_per_hour.get(ANY_PROVIDER))

    def labour_norm(self, category: str) -> Decimal | None:
        return self.labour_norm_hours.get(category, self.labour_norm_hours.get(ANY_PROVIDER))

    @property
    def budget_fen(self) -> int | None:
        """Lump sum for the year: percent of annual sales, rounded half up to the fen."""
        if self.annual_sales_fen is None or self.percent is None:
            return None
        return int((Decimal(self.annual_sales_fen) * self.percent / 100).quantize(Decimal(1), ROUND_HALF_UP))


def in_force(versions: Iterable[FeeStandard], maker: str, provider_id: str, day: date) -> FeeStandard | None:
    """The version in force on `day`: the provider's own standard before the maker-wide one;
    among those, the latest effective date, and for one date the latest recorded version."""
    for provider in (provider_id, ANY_PROVIDER):
        candidates = [
            v for v in versions if v.maker == maker and v.provider_id == provider and v.effective_from <= day
        ]
        if candidates:
            return max(candidates, key=lambda v: (v.effective_from, v.seq))
    return None
