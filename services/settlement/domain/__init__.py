"""Settlement's pure rules: the order's settlement state, the commands, decide, pricing,
fee standards and anomaly flags. No I/O."""

from services.settlement.domain.commands import ApproveSettlement, Command, CorrectSettlement, ReverseSettlement
from services.settlement.domain.decide import DECIDER, decide
from services.settlement.domain.errors import AlreadySettled, NoStandard, NotRepaired, NotSettled, SettlementRefused
from services.settlement.domain.model import State, evolve

__all__ = [
    "DECIDER",
    "AlreadySettled",
    "ApproveSettlement",
    "Command",
    "CorrectSettlement",
    "NoStandard",
    "NotRepaired",
    "NotSettled",
    "ReverseSettlement",
    "SettlementRefused",
    "State",
    "decide",
    "evolve",
]
