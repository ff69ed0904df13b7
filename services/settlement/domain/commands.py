"""What finance asks of an order's settlement."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.settlement.domain.returns import PartsReturns
from services.settlement.domain.review import LineReview
from services.settlement.domain.standards import FeeStandard


@dataclass(frozen=True)
class ApproveSettlement:
    settlement_id: UUID
    standard: FeeStandard | None
    distance_km: int | None = None
    lines: tuple[LineReview, ...] = ()  # finance's line decisions; unnamed lines as proposed
    decided_by: str = ""  # the approving actor, recorded on every line finance decides
    returns: PartsReturns | None = None  # returnable parts and their returns (domain/returns.py)


@dataclass(frozen=True)
class CorrectSettlement:
    settlement_id: UUID
    reason: str
    standard: FeeStandard | None
    distance_km: int | None = None
    lines: tuple[LineReview, ...] = ()
    decided_by: str = ""
    returns: PartsReturns | None = None  # returnable parts and their returns (domain/returns.py)


@dataclass(frozen=True)
class ReverseSettlement:
    reason: str


Command = ApproveSettlement | CorrectSettlement | ReverseSettlement
