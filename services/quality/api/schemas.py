"""Response schemas of the quality queries (money in integer fen; averages as decimal strings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Completeness(BaseModel):
    """Whether the figures are whole: false while the read model holds dead letters (events it
    could not apply), named in `incomplete`."""

    complete: bool = Field(description="false: the read model missed events; the figures are incomplete")
    incomplete: list[str] = Field(description="the projections holding unresolved dead letters")


class ScorePublic(BaseModel):
    """One provider's (or outlet's) month, as seed 004 scores it."""

    level: Literal["provider", "outlet"]
    id: str
    n: int = Field(description="reviewed repairs (one scored form per order)")
    total: int = Field(description="points of the scored forms, three items each")
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


class MakerScores(BaseModel):
    maker: str
    closed: bool
    scores: list[ScorePublic]


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


class BandPublic(BaseModel):
    max_complaints: int | None
    amount_fen: int


class PolicyFigures(BaseModel):
    improvement_reward_fen: int
    decline_penalty_fen: int
    all_max_reward_fen: int
    all_min_penalty_fen: int
    complaint_bands: list[BandPublic]
    admin_action_threshold: int


class PolicyPublic(BaseModel):
    maker: str
    default: bool = Field(description="true: the maker never set one, the seed's numbers apply")
    policy: PolicyFigures


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
