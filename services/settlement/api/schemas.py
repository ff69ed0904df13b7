"""Request and response bodies of the settlement commands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from libs.events import catalog


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SettlementApprove(_Body):
    distance_km: int | None = Field(default=None, ge=0, le=5000, description="outlet → customer, from the service form")


class SettlementCorrect(_Body):
    reason: str = Field(min_length=1, max_length=500)
    distance_km: int | None = Field(default=None, ge=0, le=5000)


class SettlementReverse(_Body):
    reason: str = Field(min_length=1, max_length=500)


class SettlementPublic(BaseModel):
    order_id: str
    version: int
    settlement: catalog.OrderSettled | None
    reversed: list[str] = []
    position: int  # the global position committed (read-your-writes: min_position)
