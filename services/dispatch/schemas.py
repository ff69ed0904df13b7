"""Request and response schemas of the dispatch API (one family per resource)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from libs.events.catalog import PartUsed

Name = Field(min_length=1, max_length=100)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- outlets ----------------------------------------------------------------------------


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


# ---- commands ---------------------------------------------------------------------------


class DispatchIn(Body):
    outlet_id: str = Name
    technician_id: str = Name


class ReassignIn(DispatchIn):
    reason: str = Field(min_length=1, max_length=500)


class PauseIn(Body):
    reason: Literal["parts_on_order", "customer_unreachable", "customer_rescheduled"]
    note: str = Field("", max_length=500)
    occurred_at: AwareDatetime | None = Field(None, description="when it happened (offline updates); default now")


class ResumeIn(Body):
    note: str = Field("", max_length=500)
    occurred_at: AwareDatetime | None = None


class ArriveIn(Body):
    arrived_at: AwareDatetime | None = Field(None, description="到达现场时间; default now")
    staff_count: int = Field(1, ge=1, le=50)


class RepairIn(Body):
    diagnosis: str = Field(min_length=1, max_length=2000)
    solution: str = Field(min_length=1, max_length=2000)
    other_services: str = Field("", max_length=2000)
    parts: list[PartUsed] = Field([], max_length=100)
    labour_hours: Decimal = Field(ge=0, le=1000, max_digits=8, decimal_places=2)
    departed_at: AwareDatetime | None = Field(None, description="离开现场时间; default now")
    test_result: str = Field("", max_length=2000)
    cause_analysis: str = Field("", max_length=2000)
    sales_opportunity: str | None = Field(None, max_length=1000)


class RespondIn(Body):
    response: str = Field(min_length=1, max_length=2000)
    occurred_at: AwareDatetime | None = None


class Accepted(BaseModel):
    """What a command returns: the order's new stream version and the events appended."""

    order_id: str
    version: int
    events: list[str]


# ---- queries ----------------------------------------------------------------------------

SlaStateName = Literal["on_time", "at_risk", "breached", "paused", "met"]


class QueueItem(BaseModel):
    order_id: str
    status: str
    maker: str
    category: str
    province: str
    city: str
    county: str
    tier: str
    outlet_id: str | None
    technician_id: str | None
    reported_at: datetime
    due_at: datetime
    sla_state: SlaStateName
    time_left_seconds: float = Field(description="SLA time left (working time under a calendar); negative = late")
    paused_seconds: float
    pause_reason: str | None
    escalated: bool


class TechnicianLoad(BaseModel):
    technician_id: str
    open_orders: int


class OutletLoad(BaseModel):
    outlet_id: str
    open_orders: int = Field(description="dispatched or on site, not yet repaired")
    technicians: list[TechnicianLoad]


class QueuePublic(BaseModel):
    as_of: datetime
    outlet_id: str | None = None
    region: str | None = None
    orders: list[QueueItem]
    load: list[OutletLoad]


class ComplaintItem(BaseModel):
    complaint_id: str
    order_id: str
    provider_id: str | None
    outlet_id: str | None
    received_at: datetime
    due_at: datetime
    responded_at: datetime | None
    escalated: bool


class OverduePublic(BaseModel):
    as_of: datetime
    orders: list[QueueItem]
    complaints: list[ComplaintItem]


class SuggestionPublic(BaseModel):
    outlet_id: str
    provider_id: str
    technician_id: str
    match: Literal["county", "city", "nearby"]
    outlet_load: int
    capacity_per_day: int
    technician_load: int


class RoutePublic(BaseModel):
    order_id: str
    city: str
    county: str
    category: str
    best: SuggestionPublic | None
    candidates: list[SuggestionPublic]


class Pause(BaseModel):
    started_at: datetime
    ended_at: datetime | None


class ComplaintSla(BaseModel):
    complaint_id: str
    received_at: datetime
    due_at: datetime
    responded_at: datetime | None
    escalated: bool


class OrderDispatchPublic(BaseModel):
    """One order as dispatch sees it, from its own events (read-your-writes, no projection lag)."""

    order_id: str
    version: int
    status: str
    maker: str
    category: str
    province: str
    city: str
    county: str
    tier: str
    outlet_id: str | None
    provider_id: str | None
    technician_id: str | None
    reported_at: datetime
    due_at: datetime
    arrived_at: datetime | None
    sla_state: SlaStateName
    time_left_seconds: float
    paused_seconds: float
    pauses: list[Pause]
    complaints: list[ComplaintSla]
    escalated: list[str] = Field(description="SLA breaches already escalated")
