"""Intake's pure rules: the order aggregate (report, escalate, complain) and warranty (三包)."""

from services.intake.domain.errors import (
    AlreadyReported,
    DomainError,
    InvalidField,
    OrderClosed,
    TopOfChain,
    UnknownOrder,
)
from services.intake.domain.order import (
    DECIDER,
    STATUS_BY_EVENT,
    Command,
    Escalate,
    OrderState,
    ReceiveComplaint,
    ReportOrder,
    decide,
    evolve,
    next_tier,
    resent,
    visible,
)
from services.intake.domain.warranty import DEFAULT_POLICIES, NATIONAL, MakerPolicy, PolicyBook, Terms, add_months, determine

__all__ = [
    "DECIDER",
    "DEFAULT_POLICIES",
    "NATIONAL",
    "STATUS_BY_EVENT",
    "AlreadyReported",
    "Command",
    "DomainError",
    "Escalate",
    "InvalidField",
    "MakerPolicy",
    "OrderClosed",
    "OrderState",
    "PolicyBook",
    "ReceiveComplaint",
    "ReportOrder",
    "Terms",
    "TopOfChain",
    "UnknownOrder",
    "add_months",
    "decide",
    "determine",
    "evolve",
    "next_tier",
    "resent",
    "visible",
]
