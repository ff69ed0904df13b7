"""Command bodies and the command answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from libs.events.bounds import MAX_HOURS, StrictFen, StrictQuantity, WindowMoment
from libs.web.text import PlainText
from services.dispatch.api.schemas.base import Body, Name, Note, Text2000


class DispatchIn(Body):
    outlet_id: Name
    technician_id: Name


class DispatchWindowIn(DispatchIn):
    window_start: WindowMoment | None = Field(
        None, description="book the two-hour appointment window starting here (outlet capacity)")
    occurred_at: WindowMoment | None = Field(
        None, description="a dispatch entered late (a phoned or paper slip): when it happened, at most 30 days back; "
        "default now")


class ReassignIn(DispatchIn):
    reason: Note = Field(min_length=1)


Serial = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
PartsOrderId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class PauseIn(Body):
    reason: Literal["parts_on_order", "customer_unreachable", "customer_rescheduled"]
    note: Note = ""
    occurred_at: WindowMoment | None = Field(None, description="when it happened (offline updates); default now")
    parts_order_id: PartsOrderId | None = Field(
        None, description="with reason parts_on_order: the parts order waited for; its receipt resumes the SLA")


class ResumeIn(Body):
    note: Note = ""
    occurred_at: WindowMoment | None = None


class OnTheWayIn(Body):
    eta: WindowMoment = Field(description="预计到达时间: the arrival estimate the customer is told (within 24 h)")


class ArriveIn(Body):
    arrived_at: WindowMoment | None = Field(None, description="到达现场时间; default now")
    staff_count: StrictInt = Field(1, ge=1, le=50)


class PartIn(Body):
    """A part used (the catalog's PartUsed, with the API's strict types and text rules)."""

    part_no: Annotated[PlainText, Field(min_length=1, max_length=100)]
    name: Annotated[PlainText, Field(max_length=200)] = ""
    quantity: StrictQuantity
    unit_cost_fen: StrictFen
    original: StrictBool
    serial: Serial | None = Field(None, description="the fitted part's serial (parts: serial search)")
    faulty_serial: Serial | None = Field(
        None, description="the removed faulty part's serial; a returnable part's return must name it (旧件返还)")


class RepairIn(Body):
    diagnosis: Text2000 = Field(min_length=1)
    solution: Text2000 = Field(min_length=1)
    other_services: Text2000 = ""
    parts: list[PartIn] = Field([], max_length=100)
    labour_hours: Decimal = Field(ge=0, le=MAX_HOURS, max_digits=8, decimal_places=2)
    departed_at: WindowMoment | None = Field(None, description="离开现场时间; default now")
    test_result: Text2000 = ""
    cause_analysis: Text2000 = ""
    sales_opportunity: Text2000 | None = Field(None, max_length=1000)


class RespondIn(Body):
    response: Text2000 = Field(min_length=1)
    occurred_at: WindowMoment | None = None


class Accepted(BaseModel):
    """What a command returns: the order's new stream version and the events appended."""

    order_id: str
    version: int
    events: list[str]
    position: int  # the global position committed (read-your-writes: min_position)




class MatchIn(Body):
    order_id: Annotated[PlainText, Field(min_length=1, max_length=200,
                                         description="the order the complaint is about (of the complaint's maker)")]


class ComplaintAccepted(BaseModel):
    """What a command on a complaint returns: the stream it lives on (its order, or `complaint:<id>`)."""

    complaint_id: str
    stream_id: str
    version: int
    events: list[str]
    position: int
