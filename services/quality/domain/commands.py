"""What supervision asks: a review, a complaint, a policy, closing a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.quality.domain.policy import Policy


@dataclass(frozen=True)
class Actor:
    role: str
    party: str


@dataclass(frozen=True)
class SubmitReview:
    actor: Actor
    channel: str
    timeliness: str
    quality: str
    attitude: str
    overall: int
    comment: str = ""
    reviewed_at: datetime | None = None  # a paper form entered late: when the customer filled it in
    now: datetime | None = None  # the server clock (set with reviewed_at)


@dataclass(frozen=True)
class FileComplaint:
    """A complaint from a quality channel; about an order (state given) or a provider (state None)."""

    actor: Actor
    channel: str
    text: str
    received_at: datetime
    now: datetime
    severity: str = "normal"
    provider_id: str | None = None
    outlet_id: str | None = None
    maker: str | None = None
    complaint_id: UUID | None = None


@dataclass(frozen=True)
class CloseMonth:
    actor: Actor
    maker: str
    month: str
    now: datetime
    scores: list[dict[str, object]]
    through_position: int
    policy: Policy
    previous_open: bool = False  # see `previous_month_open`


@dataclass(frozen=True)
class SetPolicy:
    actor: Actor
    maker: str
    policy: Policy
