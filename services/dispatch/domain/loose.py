"""Complaints filed without an order (quality's `complaint:<id>` streams): a dispatcher answers
them (the 1-hour response promise holds for them too) and matches them to the order they are
about, after which they count as that order's complaint. Pure: no I/O; the order's facts and
the clock come in on the command.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from libs.events import catalog
from libs.events.backdating import within_window
from libs.events.catalog import Payload
from libs.events.decider import Fact, Rules
from libs.events.errors import Missing
from libs.events.escalation import complaint_escalation
from services.dispatch.domain.order import Invalid, Refused


@dataclass(frozen=True)
class LooseComplaint:
    stream_id: str
    version: int = 0
    complaint_id: UUID | None = None
    maker: str | None = None
    provider_id: str | None = None
    outlet_id: str | None = None
    received_at: datetime | None = None
    responded_at: datetime | None = None
    order_id: str | None = None  # the order it was matched to
    text: str = ""


@dataclass(frozen=True)
class OrderFacts:
    """What the match needs of the order named: whether it exists, whose it is, who works on it."""

    exists: bool
    maker: str = ""
    provider_id: str | None = None
    outlet_id: str | None = None


@dataclass(frozen=True)
class Answer:
    complaint_id: UUID
    response: str
    at: datetime
    now: datetime


@dataclass(frozen=True)
class Match:
    complaint_id: UUID
    order_id: str
    order: OrderFacts


LooseCommand = Answer | Match


def evolve(state: LooseComplaint, data: Payload, fact: Fact) -> LooseComplaint:
    state = replace(state, version=fact.version)
    if isinstance(data, catalog.ComplaintReceived):
        return replace(state, complaint_id=data.complaint_id, maker=data.maker, provider_id=data.provider_id,
                       outlet_id=data.outlet_id, received_at=data.received_at, text=data.text)
    if isinstance(data, catalog.ComplaintResponded):
        return replace(state, responded_at=fact.occurred_at)
    if isinstance(data, catalog.ComplaintMatched):
        return replace(state, order_id=data.order_id, provider_id=data.provider_id, outlet_id=data.outlet_id)
    return state


def decide(state: LooseComplaint, command: LooseCommand) -> list[Payload]:
    if state.complaint_id is None or state.complaint_id != command.complaint_id:
        raise Missing(f"complaint {command.complaint_id} not found")
    if isinstance(command, Answer):
        return answer(state, command)
    return match(state, command)


def answer(state: LooseComplaint, cmd: Answer) -> list[Payload]:
    """Once; not empty; at a time inside the late-entry window, not before the complaint came in."""
    if state.responded_at is not None:
        raise Refused(f"complaint {cmd.complaint_id} was answered at {state.responded_at.isoformat()}")
    if not cmd.response.strip():
        raise Invalid("response", "the response is empty")
    if cmd.at > cmd.now:
        raise Invalid("occurred_at", "occurred_at is in the future")
    if state.received_at is not None and cmd.at < state.received_at:
        raise Invalid("occurred_at", f"occurred_at is before the complaint came in ({state.received_at.isoformat()})")
    within_window("occurred_at", cmd.at, cmd.now)
    return [catalog.ComplaintResponded(complaint_id=cmd.complaint_id, response=cmd.response)]


def match(state: LooseComplaint, cmd: Match) -> list[Payload]:
    """Once, to an existing order of the complaint's own maker; charged to the provider it named,
    else to the order's. The same match again is a retry: nothing new (the order's step up, below,
    is then completed if it was not)."""
    if state.order_id == cmd.order_id:
        return []
    if state.order_id is not None:
        raise Refused(f"complaint {cmd.complaint_id} is already matched to order {state.order_id}")
    if not cmd.order.exists or cmd.order.maker != state.maker:  # another maker's order is as unknown
        raise Invalid("order_id", f"no order {cmd.order_id!r} of maker {state.maker!r}")
    provider, outlet = state.provider_id, state.outlet_id
    if provider is None:
        provider, outlet = cmd.order.provider_id, cmd.order.outlet_id
    return [catalog.ComplaintMatched(complaint_id=cmd.complaint_id, order_id=cmd.order_id, provider_id=provider,
                                     outlet_id=outlet)]


LOOSE: Rules[LooseComplaint, LooseCommand] = Rules(LooseComplaint, evolve, decide)


@dataclass(frozen=True)
class OrderTier:
    """The order's side of a match: where it stands on the chain, and which matched complaints
    already moved it (so a retried match moves it once)."""

    order_id: str
    tier: catalog.Tier = "dealer"
    settled: bool = False
    moved_for: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EscalateMatched:
    complaint_id: UUID
    text: str


def matched_key(complaint_id: UUID) -> str:
    return f"matched:{complaint_id}"


def evolve_tier(state: OrderTier, data: Payload, fact: Fact) -> OrderTier:
    if isinstance(data, catalog.OrderReported):
        return replace(state, tier=data.tier)
    if isinstance(data, catalog.OrderEscalated):
        moved = state.moved_for | {data.breach} if data.trigger == "complaint" and data.breach else state.moved_for
        return replace(state, tier=data.to_tier, moved_for=moved)
    if isinstance(data, catalog.OrderSettled | catalog.OrderSettlementReversed):
        return replace(state, settled=isinstance(data, catalog.OrderSettled))
    return state


def decide_tier(state: OrderTier, cmd: EscalateMatched) -> list[Payload]:
    """A matched complaint is a complaint against the order: one tier up, once (the one chain)."""
    key = matched_key(cmd.complaint_id)
    if key in state.moved_for:
        return []
    step = complaint_escalation(state.tier, state.settled, cmd.text, key)
    return [step] if step is not None else []


ORDER_TIER: Rules[OrderTier, EscalateMatched] = Rules(OrderTier, evolve_tier, decide_tier)


def loose_stream(complaint_id: UUID) -> str:
    """The stream of a complaint filed without an order (quality's handler names it so)."""
    return f"complaint:{complaint_id}"
