"""Quality commands over HTTP: reviews, complaints, the makers' policies, closing a month.

Only the supervision department (role supervisor) may record (the operator reads only); a
provider or technician never can (supervision is separate from execution, seed 004).
Queries live in api/queries.py (their SQL in services/quality/queries.py), mounted here too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import uuid4

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from libs.events import catalog
from libs.events.bounds import Month, WindowMoment
from libs.web.auth import Principal
from libs.web.consistency import committed
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.scoping import maker_or_404
from libs.web.text import FreeText, PlainText
from services.quality import domain, handlers
from services.quality.api.queries import router as queries
from services.quality.api.schemas import MonthClosedPublic, PolicySet
from services.quality.domain.policy import Policy
from services.quality.domain.scoring import review_points

router = APIRouter(tags=["quality"])
Supervision = Annotated[Principal, Depends(require("supervisor"))]
MakerPath = Annotated[PlainText, Path(min_length=1, max_length=100)]
Id = Annotated[PlainText, Field(min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewCreate(Strict):
    channel: catalog.ReviewChannel
    timeliness: catalog.Grade
    quality: catalog.Grade
    attitude: catalog.Grade
    overall: Literal[1, 2, 3, 4, 5] = Field(description="5 非常满意 … 1 很不满意")
    comment: Annotated[FreeText, Field(max_length=2000)] = ""
    reviewed_at: WindowMoment | None = Field(
        None, description="a paper form entered late: when the customer filled it in (at most 30 days back); default now")


class ReviewPublic(BaseModel):
    order_id: str
    channel: str
    provider_id: str
    outlet_id: str
    points: int
    version: int
    position: int


class ComplaintCreate(Strict):
    channel: catalog.QualityChannel
    text: Annotated[FreeText, Field(min_length=1, max_length=4000)]
    severity: catalog.Severity = "normal"
    order_id: Id | None = None
    provider_id: Id | None = None
    outlet_id: Id | None = None
    maker: Id | None = None
    received_at: WindowMoment | None = None


class ComplaintPublic(BaseModel):
    complaint_id: str
    stream_id: str
    provider_id: str | None
    outlet_id: str | None
    version: int
    position: int


def actor(principal: Principal) -> domain.Actor:
    return domain.Actor(principal.role, principal.party)


@router.post("/orders/{order_id}/reviews", status_code=201, response_model=ReviewPublic)
async def submit_review(order_id: str, body: ReviewCreate, runtime: RuntimeDep, principal: Supervision) -> ReviewPublic:
    """Record a customer feedback form or a supervisor's call-back for a repaired order (a paper
    form entered late carries `reviewed_at`: the event's occurred time, beside the recorded one)."""
    command = domain.SubmitReview(actor(principal), **body.model_dump(), now=runtime.clock())
    done = await handlers.review(runtime, order_id, command, principal.actor, correlation_id())
    review = done.payloads[0]
    assert isinstance(review, catalog.OrderReviewed)
    return ReviewPublic(
        order_id=order_id, channel=review.channel, provider_id=review.provider_id, outlet_id=review.outlet_id,
        points=review_points(review.timeliness, review.quality, review.attitude), version=done.version,
        position=committed(done.position),
    )


@router.post("/quality/complaints", status_code=201, response_model=ComplaintPublic)
async def file_complaint(body: ComplaintCreate, runtime: RuntimeDep, principal: Supervision) -> ComplaintPublic:
    """Record a complaint from a quality channel, about an order or directly about a provider."""
    now = runtime.clock()
    fields = body.model_dump(exclude={"order_id", "received_at"})
    command = domain.FileComplaint(
        actor(principal), received_at=body.received_at or now, now=now, complaint_id=uuid4(), **fields
    )
    done = await handlers.complaint(runtime, body.order_id, command, principal.actor, correlation_id())
    complaint = done.payloads[0]
    assert isinstance(complaint, catalog.ComplaintReceived)
    return ComplaintPublic(
        complaint_id=str(complaint.complaint_id), stream_id=done.stream_id, provider_id=complaint.provider_id,
        outlet_id=complaint.outlet_id, version=done.version, position=committed(done.position),
    )


@router.put("/quality/policies/{maker}", response_model=PolicySet)
async def set_policy(maker: MakerPath, body: Policy, runtime: RuntimeDep, principal: Supervision) -> dict[str, Any]:
    """Set a maker's score policy: amounts, bands, severity weights, basis of n, call-back share (open months)."""
    maker_or_404(principal, maker)
    done = await handlers.set_policy(runtime, domain.SetPolicy(actor(principal), maker, body), principal.actor,
                                     correlation_id())
    return {"maker": maker, "default": False, "policy": body, "position": committed(done.position)}


@router.post("/quality/months/{month}/close", status_code=201, response_model=MonthClosedPublic)
async def close_month(
    month: Annotated[Month, Path(description="YYYY-MM, China time")], runtime: RuntimeDep, principal: Supervision,
    maker: Annotated[PlainText | None, Query(min_length=1, max_length=100, description="default: the caller's maker")] = None,
) -> dict[str, Any]:
    """Freeze a maker's month: its scores go into a quality.month_closed event; late items go to the next month."""
    maker = maker_or_404(principal, maker or principal.party)
    done, scores, through = await handlers.close_month(runtime, maker, month, actor(principal), principal.actor,
                                                       correlation_id())
    return {
        "maker": maker, "month": month, "closed": True, "closed_at": done.events[-1].occurred_at.isoformat(),
        "through_position": through, "scores": scores, "position": committed(done.position),
    }


router.include_router(queries)
