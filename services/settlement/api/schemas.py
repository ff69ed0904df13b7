"""Request and response bodies of the settlement commands."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from libs.events import catalog
from libs.web.text import FreeText

Reason = Annotated[FreeText, Field(min_length=1, max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SettlementApprove(_Body):
    distance_km: StrictInt | None = Field(default=None, ge=0, le=5000, description="outlet → customer, from the service form")


class SettlementCorrect(_Body):
    reason: Reason
    distance_km: StrictInt | None = Field(default=None, ge=0, le=5000)


class SettlementReverse(_Body):
    reason: Reason


class SettlementPublic(BaseModel):
    order_id: str
    version: int
    settlement: catalog.OrderSettled | None
    reversed: list[str] = []
    position: int  # the global position committed (read-your-writes: min_position)
