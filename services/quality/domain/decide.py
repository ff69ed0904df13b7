"""The quality service's decisions, pure: what an order's history allows supervision to record.

Supervision is separate from execution (seed 004): only the supervision department (or
an operator) records feedback forms, call-backs and complaints, and never a party that
did the work on the order. One form per order per channel, and only once the order is
repaired. No I/O here; the clock's reading arrives inside the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from libs.events import catalog
from libs.events.backdating import within_window
from libs.events.catalog import Payload
from libs.events.chinatime import month_end, month_of, previous_month
from libs.events.decider import Fact, Rules
from libs.events.escalation import complaint_escalation
from services.quality.domain.commands import Actor, CloseMonth, FileComplaint, SetPolicy, SubmitReview
from services.quality.domain.errors import (
    AlreadyReviewed,
    InvalidComplaint,
    InvalidReview,
    MonthAlreadyClosed,
    MonthNotOver,
    NotRepaired,
    OrderUnknown,
    OtherMaker,
    OwnWork,
    PreviousMonthOpen,
)
from services.quality.domain.model import MonthState, OrderState, evolve, evolve_month

QUALITY_CHANNELS: tuple[str, ...] = get_args(catalog.QualityChannel)


def previous_month_open(closed: bool, has_scores: bool) -> bool:
    """A month's delta compares with the previous month, which must be final first; a
    previous month with no figures at all has nothing to compare and does not block."""
    return not closed and has_scores


def _check_maker(actor: Actor, maker: str | None) -> None:
    if actor.role == "supervisor" and maker is not None and actor.party != maker:
        raise OtherMaker(f"supervision of {actor.party!r} may not act for maker {maker!r}")


def _known_order(actor: Actor, state: OrderState) -> None:
    """The order, if it exists and is of the supervisor's maker: another maker's order is
    answered as unknown (404), never naming its owner."""
    other_maker = actor.role == "supervisor" and state.maker not in (None, actor.party)
    if not state.exists or other_maker:
        raise OrderUnknown("no such order")


def decide_review(state: OrderState, cmd: SubmitReview) -> list[catalog.Payload]:
    _known_order(cmd.actor, state)
    if state.repaired_at is None or state.provider_id is None:
        raise NotRepaired("the order has not been repaired yet; a review judges a repair")
    if cmd.actor.party in (state.provider_id, state.outlet_id):
        raise OwnWork("the provider that did the work may not review it (supervision is separate from execution)")
    if cmd.channel in state.reviewed:
        raise AlreadyReviewed(f"the order already has a {cmd.channel} form; forms are never changed", "channel")
    if cmd.reviewed_at is not None:
        reviewed_in_window(cmd.reviewed_at, cmd.now or cmd.reviewed_at, state.repaired_at)
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


def reviewed_in_window(at: datetime, now: datetime, repaired_at: datetime) -> None:
    """A late-entered form's own time: inside the late-entry window and not before the repair it judges."""
    within_window("reviewed_at", at, now)
    if at < repaired_at:
        raise InvalidReview(f"reviewed_at {at.isoformat()} is before the repair ({repaired_at.isoformat()})",
                            "reviewed_at")


def decide_complaint(state: OrderState | None, cmd: FileComplaint) -> list[catalog.Payload]:
    if cmd.channel not in QUALITY_CHANNELS:
        raise InvalidComplaint(f"channel must be one of {', '.join(QUALITY_CHANNELS)}", "channel")
    if cmd.received_at > cmd.now:
        raise InvalidComplaint("received_at lies in the future", "received_at")
    within_window("received_at", cmd.received_at, cmd.now)  # a complaint entered late: 30 days back at most
    provider, outlet, maker = cmd.provider_id, cmd.outlet_id, cmd.maker
    if state is not None:
        _known_order(cmd.actor, state)
        if maker is not None and maker != state.maker:
            raise InvalidComplaint("the maker differs from the order's maker", "maker")
        maker = None  # the order names it
        provider = provider or state.provider_id
        outlet = outlet or (state.outlet_id if provider == state.provider_id else None)
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
    received: list[catalog.Payload] = [catalog.ComplaintReceived.model_validate(fields)]
    # a complaint against an order escalates it by nature, whatever the channel (domain.md step 2)
    step = complaint_escalation(state.tier, state.settled, cmd.text) if state is not None else None
    return received + ([step] if step is not None else [])


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
            through_position=cmd.through_position, policy=cmd.policy.model_dump(mode="json"),
        )
    ]


def decide_policy(cmd: SetPolicy) -> list[catalog.Payload]:
    _check_maker(cmd.actor, cmd.maker)
    return [catalog.QualityPolicySet.model_validate({"maker": cmd.maker, **cmd.policy.model_dump()})]


OrderCommand = SubmitReview | FileComplaint


def _decide_on_order(state: OrderState, command: OrderCommand) -> list[Payload]:
    if isinstance(command, SubmitReview):
        return decide_review(state, command)
    return decide_complaint(state, command)


def _nothing(state: None, payload: Payload, fact: Fact) -> None:
    return None


# reviews and complaints on an order's stream; a complaint about a provider with no order
# (a stream of its own, nothing to fold); closing a maker's month once; a maker's policy
ORDERS: Rules[OrderState, OrderCommand] = Rules(lambda _: OrderState(), lambda s, p, f: evolve(s, p), _decide_on_order)
PROVIDER_COMPLAINTS: Rules[None, FileComplaint] = Rules(lambda _: None, _nothing, lambda _, c: decide_complaint(None, c))
MONTHS: Rules[MonthState, CloseMonth] = Rules(lambda _: MonthState(), lambda s, p, f: evolve_month(s, p), decide_close)
POLICIES: Rules[None, SetPolicy] = Rules(lambda _: None, _nothing, lambda _, c: decide_policy(c))
