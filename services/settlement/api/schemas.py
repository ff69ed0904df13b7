"""Request and response bodies of the settlement commands."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from libs.events import catalog
from libs.events.bounds import Fen
from libs.web.text import FreeText
from services.settlement.domain.review import LineReview

Reason = Annotated[FreeText, Field(min_length=1, max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineDecisionBody(_Body):
    """Finance's decision on one line of the proposal, with the reason."""

    line: StrictInt = Field(ge=0, le=999, description="0-based position of the line in the proposal")
    decision: catalog.LineDecision = Field(description="approved (for a rule-rejected line: override), reduced, rejected")
    amount_fen: Fen | None = Field(default=None, description="reduced only: the approved amount, below the claim")
    reason: Reason

    def review(self) -> LineReview:
        return LineReview(self.line, self.decision, self.reason, self.amount_fen)


LineDecisions = Annotated[list[LineDecisionBody], Field(default=[], max_length=200,
                                                        description="lines not named are settled as proposed")]


class SettlementApprove(_Body):
    distance_km: StrictInt | None = Field(default=None, ge=0, le=5000, description="outlet → customer, from the service form")
    lines: LineDecisions


class SettlementCorrect(_Body):
    reason: Reason
    distance_km: StrictInt | None = Field(default=None, ge=0, le=5000)
    lines: LineDecisions


class SettlementReverse(_Body):
    reason: Reason


class SettlementPublic(BaseModel):
    order_id: str
    version: int
    settlement: catalog.OrderSettled | None
    reversed: list[str] = []
    position: int  # the global position committed (read-your-writes: min_position)
