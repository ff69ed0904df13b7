"""The order as dispatch sees it: a frozen State built from the order's events, the
commands a dispatcher or technician gives, and `decide`/`evolve`. Pure: no I/O, and
the time and the maker's SLA policy come in with each command.

Times: every command carries `at` (when it happened, which a technician working
offline reports late) and `now` (the server clock). SLA figures use `at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from libs.events import catalog, errors
from services.dispatch.domain.sla import DEFAULT_POLICY, SlaClock, SlaPolicy

if TYPE_CHECKING:
    from services.dispatch.domain.parts_wait import PartsOrderSeen
    from services.dispatch.domain.windows import Slot, Window

Status = Literal["new", "reported", "dispatched", "arrived", "repaired"]
PauseReason = catalog.PauseReason
ON_SITE = "on_site"


class Refused(errors.Refused):
    """A command the order's state does not allow (the API answers 409)."""


class Invalid(errors.InvalidInput):
    """A command whose values cannot be right (the API answers 422 naming the field)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, field_name)


@dataclass(frozen=True)
class Complaint:
    id: UUID
    received_at: datetime
    responded_at: datetime | None = None


@dataclass(frozen=True)
class State:
    order_id: str
    version: int = 0
    status: Status = "new"
    maker: str = ""
    category: str = ""
    provincial_capital: bool = False
    region: tuple[str, str, str] = ("", "", "")  # province, city, county
    tier: catalog.Tier = "dealer"
    reported_at: datetime | None = None  # when the customer reported: the on-site SLA starts here
    reported_recorded_at: datetime | None = None  # picks the SLA policy in force
    outlet_id: str | None = None
    provider_id: str | None = None
    technician_id: str | None = None
    paused_since: datetime | None = None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    waiting_for: str | None = None  # the parts order the running pause waits for (domain/parts_wait.py)
    arrived_at: datetime | None = None
    last_step_at: datetime | None = None  # latest lifecycle step, for ordering offline updates
    escalated: frozenset[str] = frozenset()  # SLA breaches already escalated
    complaints: tuple[Complaint, ...] = field(default=())
    window: tuple[datetime, datetime] | None = None  # the appointment window booked with the customer
    reschedules: int = 0  # the customer's moves of it so far
    eta: datetime | None = None  # the technician is on the way, expected then

    @property
    def open(self) -> bool:
        return self.status in ("reported", "dispatched")

    def on_site_clock(self, policy: SlaPolicy) -> SlaClock:
        """The on-site SLA as the events tell it, measured with `policy`."""
        if self.reported_at is None:
            raise Refused(f"order {self.order_id} has not been reported")
        clock = SlaClock(self.reported_at, policy.on_site_seconds(self.provincial_capital))
        for since, until in self.pauses:
            clock = clock.pause(since).resume(until, policy.calendar)
        if self.paused_since is not None:
            clock = clock.pause(self.paused_since)
        return clock.stop(self.arrived_at) if self.arrived_at else clock

    def complaint_due(self, complaint: Complaint, policy: SlaPolicy) -> datetime:
        return SlaClock(complaint.received_at, policy.complaint_seconds).due_at(policy.calendar)


# ---- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    outlet_id: str
    provider_id: str
    technician_id: str


@dataclass(frozen=True)
class Dispatch:
    to: Assignment
    at: datetime
    policy: SlaPolicy = DEFAULT_POLICY
    window: tuple[datetime, datetime] | None = None  # the appointment booked (domain/windows.py)
    now: datetime | None = None  # the server clock when `at` is a paper slip's own time (late entry)


@dataclass(frozen=True)
class Reassign:
    to: Assignment
    reason: str
    at: datetime
    policy: SlaPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class PauseSla:
    reason: PauseReason
    at: datetime
    now: datetime
    note: str = ""
    parts_order: PartsOrderSeen | None = None  # the parts order a parts_on_order pause waits for


@dataclass(frozen=True)
class ResumeSla:
    at: datetime
    now: datetime
    note: str = ""


@dataclass(frozen=True)
class Reschedule:
    """The customer moves the appointment (or books the first) from the status page: `new`
    must be one of `slots` (the outlet's capacity as read now) and within the policy."""

    new: Window
    slots: tuple[Slot, ...]
    at: datetime
    policy: SlaPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class OnTheWay:
    """The technician sets out; `eta` is the arrival estimate the customer is told."""

    eta: datetime
    at: datetime


@dataclass(frozen=True)
class Arrive:
    at: datetime  # arrival time (到达现场时间)
    now: datetime
    staff_count: int = 1


@dataclass(frozen=True)
class Repair:
    diagnosis: str
    solution: str
    departed_at: datetime  # 离开现场时间
    now: datetime
    labour_hours: Decimal
    parts: tuple[catalog.PartUsed, ...] = ()
    other_services: str = ""
    test_result: str = ""
    cause_analysis: str = ""
    sales_opportunity: str | None = None


@dataclass(frozen=True)
class RespondComplaint:
    complaint_id: UUID
    response: str
    at: datetime


@dataclass(frozen=True)
class EscalateBreaches:
    """What the SLA watcher asks: escalate every breach of this order not yet escalated."""

    now: datetime
    policy: SlaPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class ResumeForParts:
    """What the parts watcher asks: the parts order this order waits for was received."""

    parts_order_id: str
    at: datetime  # when the wait ended (parts_wait.resume_at)


Command = (Dispatch | Reassign | PauseSla | ResumeSla | Reschedule | OnTheWay | Arrive | Repair | RespondComplaint
           | EscalateBreaches | ResumeForParts)


def occurred_at(command: Command) -> datetime:
    """When the events a command decides happened (a late offline report keeps its own time)."""
    match command:
        case Repair():
            return command.departed_at
        case EscalateBreaches():
            return command.now
    return command.at
