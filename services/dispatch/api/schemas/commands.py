"""Command bodies and the command answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from libs.events.catalog import PartUsed
from services.dispatch.api.schemas.base import Body, Name


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
    position: int  # the global position committed (read-your-writes: min_position)


