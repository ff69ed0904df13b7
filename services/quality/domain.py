"""The quality service's decisions, pure: what an order's history allows supervision to record.

Supervision is separate from execution (seed 004): only the supervision department (or
an operator) records feedback forms, call-backs and complaints, and never a party that
did the work on the order. One form per order per channel, and only once the order is
repaired. No I/O here; the clock's reading arrives inside the command.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from libs.events import catalog
from libs.events.catalog import Payload
from libs.events.chinatime import month_end, month_of, previous_month
from libs.events.decider import Fact
from libs.events.errors import DomainError
from services.quality.policy import Policy

QUALITY_CHANNELS = ("hotline", "web_form", "call_back", "feedback_form", "suggestion_form", "internal_monitor")


class QualityError(DomainError):
    """A command the order's history does not allow; libs.web.problems turns it into a problem."""


class OrderUnknown(QualityError):
    """No order.reported on that stream."""

    status = 404


class NotRepaired(QualityError):
    """Reviews judge a repair: none has been recorded yet."""


class AlreadyReviewed(QualityError):
    """One form per order per channel; a form is never changed."""


class OwnWork(QualityError):
    """The party that did the work may not judge it."""

    status = 403


class OtherMaker(QualityError):
    """A maker's supervision acts on its own orders and months only."""

    status = 403


class InvalidComplaint(QualityError):
    """The complaint does not say whom or when it concerns."""

    status = 422


class MonthNotOver(QualityError):
    """A month can only be closed once it has ended in China time."""


class MonthAlreadyClosed(QualityError):
    """Closing is final: the figures were frozen and paid on."""


class PreviousMonthOpen(QualityError):
    """A month's delta compares with the previous month's avg, which must be final first."""


@dataclass(frozen=True)
class OrderState:
    """What quality needs to know of an order, folded from its stream."""

    exists: bool = False
    maker: str | None = None
    provider_id: str | None = None
    outlet_id: str | None = None
    repaired_at: datetime | None = None
    reviewed: frozenset[str] = field(default_factory=frozenset)


def evolve(state: OrderState, data: catalog.Payload) -> OrderState:
    """Apply one event of the order's stream (types quality does not care about are ignored)."""
    if isinstance(data, catalog.OrderReported):
        return replace(state, exists=True, maker=data.maker)
    if isinstance(data, catalog.OrderDispatched | catalog.OrderReassigned):
        return replace(state, provider_id=data.provider_id, outlet_id=data.outlet_id)
    if isinstance(data, catalog.OrderRepaired):
        return replace(state, repaired_at=data.departed_at)
    if isinstance(data, catalog.OrderReviewed):
        return replace(state, reviewed=state.reviewed | {data.channel})
    return state


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
class MonthState:
    closed: bool = False


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


def previous_month_open(closed: bool, has_scores: bool) -> bool:
    """A month's delta compares with the previous month, which must be final first; a
    previous month with no figures at all has nothing to compare and does not block."""
    return not closed and has_scores


def _check_maker(actor: Actor, maker: str | None) -> None:
    if actor.role == "supervisor" and maker is not None and actor.party != maker:
        raise OtherMaker(f"supervision of {actor.party!r} may not act for maker {maker!r}")


def decide_review(state: OrderState, cmd: SubmitReview) -> list[catalog.Payload]:
    if not state.exists:
        raise OrderUnknown("no such order")
    _check_maker(cmd.actor, state.maker)
    if state.repaired_at is None or state.provider_id is None:
        raise NotRepaired("the order has not been repaired yet; a review judges a repair")
    if cmd.actor.party in (state.provider_id, state.outlet_id):
        raise OwnWork("the provider that did the work may not review it (supervision is separate from execution)")
    if cmd.channel in state.reviewed:
        raise AlreadyReviewed(f"the order already has a {cmd.channel} form; forms are never changed", "channel")
    return [
        catalog.OrderReviewed(
            channel=cmd.channel,
            timeliness=cmd.timeliness,
            quality=cmd.quality,
            attitude=cmd.attitude,
            overall=cmd.overall,
            comment=cmd.comment,
            provider_id=state.provider_id,
            outlet_id=state.outlet_id or state.provider_id,
        )
    ]


def decide_complaint(state: OrderState | None, cmd: FileComplaint) -> list[catalog.Payload]:
    if cmd.channel not in QUALITY_CHANNELS:
        raise InvalidComplaint(f"channel must be one of {', '.join(QUALITY_CHANNELS)}", "channel")
    if cmd.received_at > cmd.now:
        raise InvalidComplaint("received_at lies in the future", "received_at")
    provider, outlet, maker = cmd.provider_id, cmd.outlet_id, cmd.maker
    if state is not None:
        if not state.exists:
            raise OrderUnknown("no such order")
        if maker is not None and maker != state.maker:
            raise InvalidComplaint("the maker differs from the order's maker", "maker")
        maker = None  # the order names it
        provider = provider or state.provider_id
        outlet = outlet or (state.outlet_id if provider == state.provider_id else None)
        _check_maker(cmd.actor, state.maker)
    else:
        if provider is None:
            raise InvalidComplaint("a complaint without an order must name the provider", "provider_id")
        if maker is None:
            raise InvalidComplaint("a complaint without an order must name the maker", "maker")
        _check_maker(cmd.actor, maker)
    if cmd.actor.party in (provider, outlet):
        raise OwnWork("a provider may not file complaints about itself through supervision channels")
    fields: dict[str, object] = {
        "channel": cmd.channel, "severity": cmd.severity, "text": cmd.text, "provider_id": provider,
        "outlet_id": outlet, "received_at": cmd.received_at, "maker": maker,
    }
    if cmd.complaint_id is not None:
        fields["complaint_id"] = cmd.complaint_id
    return [catalog.ComplaintReceived.model_validate(fields)]


def evolve_month(state: MonthState, data: catalog.Payload) -> MonthState:
    return MonthState(closed=True) if isinstance(data, catalog.MonthClosed) else state


def decide_close(state: MonthState, cmd: CloseMonth) -> list[catalog.Payload]:
    _check_maker(cmd.actor, cmd.maker)
    if state.closed:
        raise MonthAlreadyClosed(f"{cmd.month} is already closed for {cmd.maker}")
    if cmd.now < month_end(cmd.month):
        raise MonthNotOver(f"{cmd.month} has not ended in China time (now {month_of(cmd.now)})", "month")
    if cmd.previous_open:
        raise PreviousMonthOpen(f"close {previous_month(cmd.month)} first: {cmd.month}'s delta compares with it", "month")
    return [
        catalog.MonthClosed(
            month=cmd.month, maker=cmd.maker, scores=cmd.scores,
            through_position=cmd.through_position, policy=cmd.policy.to_json(),
        )
    ]


def decide_policy(cmd: SetPolicy) -> list[catalog.Payload]:
    _check_maker(cmd.actor, cmd.maker)
    return [catalog.QualityPolicySet.model_validate({"maker": cmd.maker, **cmd.policy.to_json()})]


OrderCommand = SubmitReview | FileComplaint


class OrderDecider:
    """Reviews and complaints on an order's stream (a `libs.events.command.Decider`)."""

    def initial(self, stream_id: str) -> OrderState:
        return OrderState()

    def evolve(self, state: OrderState, payload: Payload, fact: Fact) -> OrderState:
        return evolve(state, payload)

    def decide(self, state: OrderState, command: OrderCommand) -> list[Payload]:
        if isinstance(command, SubmitReview):
            return decide_review(state, command)
        return decide_complaint(state, command)


class ProviderComplaintDecider:
    """A complaint about a provider with no order: a stream of its own, nothing to fold."""

    def initial(self, stream_id: str) -> None:
        return None

    def evolve(self, state: None, payload: Payload, fact: Fact) -> None:
        return None

    def decide(self, state: None, command: FileComplaint) -> list[Payload]:
        return decide_complaint(None, command)


class MonthDecider:
    """Closing a maker's month, once."""

    def initial(self, stream_id: str) -> MonthState:
        return MonthState()

    def evolve(self, state: MonthState, payload: Payload, fact: Fact) -> MonthState:
        return evolve_month(state, payload)

    def decide(self, state: MonthState, command: CloseMonth) -> list[Payload]:
        return decide_close(state, command)


class PolicyDecider:
    """A maker's reward/penalty policy: each setting replaces the last."""

    def initial(self, stream_id: str) -> None:
        return None

    def evolve(self, state: None, payload: Payload, fact: Fact) -> None:
        return None

    def decide(self, state: None, command: SetPolicy) -> list[Payload]:
        return decide_policy(command)


ORDERS, PROVIDER_COMPLAINTS, MONTHS, POLICIES = OrderDecider(), ProviderComplaintDecider(), MonthDecider(), PolicyDecider()
