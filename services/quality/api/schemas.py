"""Response schemas of the quality queries (money in integer fen; averages as decimal strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.quality.domain.policy import NBasis, Policy


class Completeness(BaseModel):
    """Whether the figures are whole: false while the read model holds dead letters (events it
    could not apply), named in `incomplete`."""

    complete: bool = Field(description="false: the read model missed events; the figures are incomplete")
    incomplete: list[str] = Field(description="the projections holding unresolved dead letters")


class ScorePublic(BaseModel):
    """One provider's (or outlet's) month, as seed 004 scores it."""

    level: Literal["provider", "outlet"]
    id: str
    n: int = Field(description="the month's repairs (n_basis repairs, seed 004) or its scored forms (n_basis forms)")
    total: int = Field(description="points of the scored forms, three items each")
    # absent from months frozen before these figures existed
    n_basis: NBasis | None = None
    repairs: int | None = Field(None, description="repaired orders of the month (and orders of late forms counted here)")
    forms: int | None = Field(None, description="scored forms (one per order)")
    form_coverage: str | None = Field(None, description="forms / repairs, half-even to 4 places")
    forms_checkable: int | None = Field(None, description="customer feedback forms counted in the month")
    verified: int | None = Field(None, description="of those, how many supervision phoned back (a call-back exists)")
    verified_share: str | None = Field(None, description="verified / forms_checkable")
    contradicted: int | None = Field(None, description="call-backs whose grades differ from the customer's form")
    contradicted_share: str | None = Field(None, description="contradicted / verified")
    complaint_points: int | None = Field(None, description="complaints weighed by severity: what the band is read from")
    avg: str | None = Field(description="total / n, half-even to 4 places; null without reviews")
    avg_exact: str | None = Field(description="total / n as an exact fraction 'p/q'")
    previous_avg: str | None
    previous_avg_exact: str | None
    delta: str | None = Field(description="avg − previous_avg")
    special: Literal["all_max", "all_min"] | None
    improvement_fen: int = Field(description="reward (+) or penalty (−) for the change in avg")
    special_fen: int = Field(description="extra reward/penalty for the all-maximum / all-minimum month")
    satisfaction_fen: int
    complaints: int
    complaint_band: str
    complaint_fen: int
    admin_action: bool = Field(description="so many complaints that administrative action is due")
    amount_fen: int = Field(description="satisfaction_fen + complaint_fen")
    adjustments: dict[str, int] = Field(description="late items of closed months counted here")


class LateItem(BaseModel):
    """A form, complaint or repair entered after the month it belongs to had closed: it counts in a
    later open month, and both months show it."""

    kind: Literal["review", "complaint", "repair"]
    ref: str = Field(description="order_id:channel of a form, the complaint id of a complaint, a repair's order id")
    order_id: str | None
    channel: str | None
    provider_id: str | None
    outlet_id: str | None
    belongs_to: str = Field(description="the month it judges (repair month, receipt month)")
    counted_in: str = Field(description="the open month it was counted in")


class MakerScores(BaseModel):
    maker: str
    closed: bool
    scores: list[ScorePublic]
    late_items: list[LateItem] = Field(description="late items belonging to this month or counted in it")


class ScoresPublic(Completeness):
    month: str
    level: Literal["provider", "outlet"]
    makers: list[MakerScores]


class RankedScore(ScorePublic):
    rank: int


class RankingPublic(Completeness):
    maker: str
    month: str
    level: Literal["provider", "outlet"]
    closed: bool
    ranking: list[RankedScore]


class HistoryMonth(ScorePublic):
    maker: str
    month: str
    closed: bool


class HistoryPublic(Completeness):
    provider_id: str
    months: list[HistoryMonth]


class PolicyPublic(BaseModel):
    maker: str
    default: bool = Field(description="true: the maker never set one, the seed's numbers apply")
    policy: Policy


class PolicySet(PolicyPublic):
    position: int  # the global position committed (read-your-writes: min_position)


class MonthClosedPublic(BaseModel):
    maker: str
    month: str
    closed: bool
    closed_at: str
    through_position: int
    position: int
    scores: list[ScorePublic]


class CallBackItem(BaseModel):
    order_id: str
    outlet_id: str
    customer_name: str
    form_recorded_at: datetime
    called_back: bool = Field(description="supervision has recorded a call-back for the order")
    contradicts: bool | None = Field(description="the call-back's grades differ from the form (null: not called yet)")


class CallBackProvider(BaseModel):
    provider_id: str
    forms: int = Field(description="the provider's customer forms recorded in the week")
    drawn: int = Field(description="call_back_percent of them, rounded up")
    items: list[CallBackItem]


class CallBacksPublic(BaseModel):
    maker: str
    week: str
    call_back_percent: int
    providers: list[CallBackProvider]
