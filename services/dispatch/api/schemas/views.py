"""Query answers: queues, overdue work, routing, one order's view."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

SlaStateName = Literal["on_time", "at_risk", "breached", "paused", "met"]


class PartsLine(BaseModel):
    part_no: str
    quantity: int


class PartsWait(BaseModel):
    """The parts order a parts_on_order pause waits for: what was requested, and its receipt."""

    parts_order_id: str
    lines: list[PartsLine] = Field(description="as requested (empty until dispatch has seen the request)")
    received_at: datetime | None = None


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
    window_start: datetime | None = None  # the appointment window, once booked
    window_end: datetime | None = None
    window_missed: bool = Field(False, description="visited outside the booked window, or its end passed without a visit")
    reschedules: int = Field(0, description="the customer's moves of the window")
    eta: datetime | None = Field(None, description="the technician is on the way, expected then")
    waiting_for_parts: PartsWait | None = None  # a parts_on_order pause linked to its parts order


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
    window_start: datetime | None = None  # the appointment window booked with the customer
    window_end: datetime | None = None
    reschedules: int = Field(0, description="the customer's moves of the window")
    eta: datetime | None = Field(None, description="the technician is on the way, expected then")


class RegionCompliance(BaseModel):
    """On-site SLA compliance of one province: orders that arrived in the month, on time or late."""

    province: str
    arrived: int
    on_time: int
    late: int
    window_missed: int = Field(0, description="of the late: visits outside their booked window")
    on_time_percent: Decimal


class CompliancePublic(BaseModel):
    month: str
    regions: list[RegionCompliance]
