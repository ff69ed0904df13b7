"""Outlet registry and SLA policy schemas."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from services.dispatch.api.schemas.base import Body, Name


class TechnicianIn(Body):
    id: str = Name
    name: str = Field(min_length=1, max_length=100)
    skills: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description="product categories this technician repairs")
    phone: str = Field("", max_length=50)


class AreaIn(Body):
    city: str = Name
    county: str = Field("", max_length=100, description="empty = the whole city")


class OutletCreate(Body):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=200)
    provider_id: str = Name
    areas: list[AreaIn] = Field(min_length=1, max_length=500)
    technicians: list[TechnicianIn] = Field([], max_length=500)
    capacity_per_day: int = Field(ge=1, le=10_000)
    contact: str = Field("", max_length=200)
    active: bool = True

    @field_validator("technicians")
    @classmethod
    def _unique(cls, value: list[TechnicianIn]) -> list[TechnicianIn]:
        ids = [t.id for t in value]
        if len(ids) != len(set(ids)):
            raise ValueError("technician ids must be unique within an outlet")
        return value


class OutletUpdate(OutletCreate):
    version: int = Field(ge=1, description="the version you read (optimistic concurrency)")


class OutletPublic(OutletCreate):
    version: int


# ---- SLA policies -----------------------------------------------------------------------


class CalendarIn(Body):
    tz: str = Field("Asia/Shanghai", max_length=64)
    opens: time = time(8, 30)
    closes: time = time(17, 30)
    weekdays: list[int] = Field([0, 1, 2, 3, 4], min_length=1, max_length=7, description="working weekdays, Monday = 0")
    holidays: list[date] = Field([], max_length=400)
    workdays: list[date] = Field([], max_length=400, description="weekend days that are worked (调休)")

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value


class PolicyIn(Body):
    complaint_response_hours: float = Field(1, gt=0, le=720)
    on_site_capital_hours: float = Field(4, gt=0, le=720)
    on_site_other_hours: float = Field(12, gt=0, le=720)
    at_risk_fraction: float = Field(0.25, ge=0, lt=1)
    calendar: CalendarIn | None = Field(None, description="absent = 7×24")


class PolicyPublic(PolicyIn):
    maker: str
    version: int = Field(description="0 = the built-in default of seed 002")
    effective_from: datetime | None = Field(description="in force for orders recorded from then on (None = default)")


