"""Outlet registry and SLA policy schemas."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, field_validator

from libs.events.bounds import WindowDay, as_text
from libs.web.text import PlainText
from services.dispatch.api.schemas.base import Body, Name

Text200 = Annotated[PlainText, Field(max_length=200)]


class TechnicianIn(Body):
    id: Name
    name: Name
    skills: list[Name] = Field(min_length=1, max_length=50, description="product categories this technician repairs")
    phone: Annotated[PlainText, Field(max_length=50)] = ""


class AreaIn(Body):
    city: Name
    county: Annotated[PlainText, Field(max_length=100, description="empty = the whole city")] = ""


class OutletCreate(Body):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    name: Text200 = Field(min_length=1)
    provider_id: Name
    areas: list[AreaIn] = Field(min_length=1, max_length=500)
    technicians: list[TechnicianIn] = Field([], max_length=500)
    capacity_per_day: StrictInt = Field(ge=1, le=10_000)
    contact: Text200 = ""
    active: StrictBool = True

    @field_validator("technicians")
    @classmethod
    def _unique(cls, value: list[TechnicianIn]) -> list[TechnicianIn]:
        ids = [t.id for t in value]
        if len(ids) != len(set(ids)):
            raise ValueError("technician ids must be unique within an outlet")
        return value


class OutletUpdate(OutletCreate):
    version: StrictInt = Field(ge=1, description="the version you read (optimistic concurrency)")


class OutletPublic(OutletCreate):
    version: int


# ---- SLA policies -----------------------------------------------------------------------

# a wall-clock time in the calendar's own zone (`tz`): an offset on it means nothing
_CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$")
_local_time = as_text(time, _CLOCK_TIME, "a local time as HH:MM[:SS] without a zone (the calendar's tz applies)")
LocalTime = Annotated[time, BeforeValidator(_local_time)]


class CalendarIn(Body):
    tz: Annotated[PlainText, Field(max_length=64)] = "Asia/Shanghai"
    opens: LocalTime = time(8, 30)
    closes: LocalTime = time(17, 30)
    weekdays: list[StrictInt] = Field([0, 1, 2, 3, 4], min_length=1, max_length=7,
                                      description="working weekdays, Monday = 0")
    holidays: list[WindowDay] = Field([], max_length=400)
    workdays: list[WindowDay] = Field([], max_length=400, description="weekend days that are worked (调休)")

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value


class PolicyIn(Body):
    complaint_response_hours: StrictFloat = Field(1, gt=0, le=720)
    on_site_capital_hours: StrictFloat = Field(4, gt=0, le=720)
    on_site_other_hours: StrictFloat = Field(12, gt=0, le=720)
    at_risk_fraction: StrictFloat = Field(0.25, ge=0, lt=1)
    calendar: CalendarIn | None = Field(None, description="absent = 7×24")
    certified_only: StrictBool = Field(False, description="dispatch only technicians certified for the order's "
                                                          "category on the dispatch day (China time)")


class PolicyPublic(PolicyIn):
    maker: str
    version: int = Field(description="0 = the built-in default of seed 002")
    effective_from: datetime | None = Field(description="in force for orders recorded from then on (None = default)")


