"""The order as intake sees it: reported, escalated up the chain, complained about, closed.

Pure: no I/O, the time comes in on the command. `decide` returns payloads; the command
path (libs.events.command) types them from the catalog and appends them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from libs.events import catalog
from libs.events.catalog import Payload
from libs.events.decider import Fact, Rules
from libs.events.escalation import complaint_escalation, entry_tier, escalation
from services.intake.domain.errors import (
    AlreadyReported,
    InvalidField,
    OrderClosed,
    TopOfChain,
    UnknownOrder,
)
from services.intake.domain.warranty import PolicyBook, determine

next_tier = catalog.next_tier

Status = Literal["new", "reported", "dispatched", "on_site", "repaired", "settled"]

STATUS_BY_EVENT: dict[str, Status] = {  # the one map from the order's events to intake's status
    "order.reported": "reported",
    "order.dispatched": "dispatched",
    "order.reassigned": "dispatched",
    "order.arrived": "on_site",
    "order.repaired": "repaired",
    "order.settled": "settled",
    "order.settlement_reversed": "repaired",
}
_STATUS_BY_MODEL = {catalog.spec(t, catalog.latest_version(t)).model: s for t, s in STATUS_BY_EVENT.items()}


@dataclass(frozen=True)
class OrderState:
    """What intake's rules need to know about one order."""

    version: int = 0
    status: Status = "new"
    tier: catalog.Tier = "dealer"
    channel: str | None = None
    partner_id: str | None = None
    platform_id: str | None = None
    external_ref: str | None = None
    maker: str | None = None
    provider_id: str | None = None
    outlet_id: str | None = None
    complaints: int = 0
    reviewed: bool = False
    forwarded: tuple[tuple[str, str, str, int], ...] = ()  # (type, platform id, platform ref, position)

    @property
    def exists(self) -> bool:
        return self.status != "new"

    @property
    def closed(self) -> bool:
        """Settled orders are closed: no escalation after the maker has paid."""
        return self.status == "settled"


@dataclass(frozen=True)
class ReportOrder:
    channel: catalog.Channel
    external_ref: str
    customer: catalog.Customer
    product: catalog.Product
    location: catalog.Location
    fault: str
    today: date
    policies: PolicyBook
    working_conditions: str = ""
    partner_id: str | None = None
    platform_id: str | None = None
    attachments: tuple[str, ...] = ()
    reported_at: datetime | None = None  # the customer's own report time (late entry), else now


@dataclass(frozen=True)
class Escalate:
    reason: str
    to_tier: catalog.Tier | None = None
    trigger: Literal["manual", "complaint"] = "manual"


@dataclass(frozen=True)
class ReceiveComplaint:
    """A complaint from a platform; `report` opens the order when it matches none."""

    text: str
    received_at: datetime
    channel: catalog.ComplaintChannel = "platform"
    severity: catalog.Severity = "normal"
    external_ref: str | None = None
    platform_id: str | None = None
    attachments: tuple[str, ...] = ()
    report: ReportOrder | None = None


Command = ReportOrder | Escalate | ReceiveComplaint


def evolve(state: OrderState, data: Payload, fact: Fact) -> OrderState:
    """The state after one event (of any service: intake reads the whole order)."""
    state = replace(state, version=fact.version)
    if isinstance(data, catalog.OrderReported | catalog.ComplaintReceived) and data.platform_id and data.external_ref:
        seen = (catalog.type_of(type(data)), data.platform_id, data.external_ref, fact.position)
        state = replace(state, forwarded=(*state.forwarded, seen))
    if isinstance(data, catalog.OrderReported):
        state = replace(state, channel=data.channel, partner_id=data.partner_id, platform_id=data.platform_id,
                        external_ref=data.external_ref, maker=data.maker, tier=data.tier)
    elif isinstance(data, catalog.OrderEscalated | catalog.OrderEscalatedV1):
        state = replace(state, tier=data.to_tier)
    elif isinstance(data, catalog.OrderDispatched | catalog.OrderReassigned):
        state = replace(state, provider_id=data.provider_id, outlet_id=data.outlet_id)
    elif isinstance(data, catalog.ComplaintReceived):
        state = replace(state, complaints=state.complaints + 1)
    elif isinstance(data, catalog.OrderReviewed):
        state = replace(state, reviewed=True)
    if type(data) in _STATUS_BY_MODEL:
        state = replace(state, status=_STATUS_BY_MODEL[type(data)])
    return state


def resent(state: OrderState, kind: Literal["repair", "complaint"], platform_id: str, ref: str) -> int | None:
    """The position of what the platform already forwarded under `ref` (a re-send), if any."""
    type_ = "order.reported" if kind == "repair" else "complaint.received"
    return next((p for t, pid, r, p in state.forwarded if (t, pid, r) == (type_, platform_id, ref)), None)


def visible(state: OrderState, role: str, party: str | None) -> bool:
    """A partner sees (and escalates) only its own orders; the read-only roles' reads are
    scoped by maker at the edge (libs.web.scoping)."""
    return state.exists and role == "partner" and state.partner_id == party


def decide(state: OrderState, command: Command) -> list[Payload]:
    """The events a command produces, or a DomainError saying which rule refused it."""
    if isinstance(command, ReportOrder):
        return _report(state, command)
    if isinstance(command, Escalate):
        return _escalate(state, command)
    return _complain(state, command)


def _report(state: OrderState, cmd: ReportOrder) -> list[Payload]:
    if state.exists:
        raise AlreadyReported("the order is already reported")
    product = cmd.product
    for name, day in (("factory_date", product.factory_date), ("purchase_date", product.purchase_date)):
        if day is not None and day > cmd.today:
            raise InvalidField(f"product.{name}", f"{day} is in the future")
    if product.factory_date and product.purchase_date and product.purchase_date < product.factory_date:
        raise InvalidField("product.purchase_date", "purchase date is before the factory date")
    maker, policy = cmd.policies.maker_for(product.brand)
    warranty = determine(policy, product.category, product.purchase_date, product.factory_date, cmd.today)
    return [catalog.OrderReported(
        channel=cmd.channel, external_ref=cmd.external_ref, partner_id=cmd.partner_id, platform_id=cmd.platform_id,
        maker=maker, customer=cmd.customer, product=product, location=cmd.location,
        working_conditions=cmd.working_conditions, fault=cmd.fault, warranty=warranty,
        attachments=list(cmd.attachments), tier=entry_tier(cmd.channel),
    )]


def _escalate(state: OrderState, cmd: Escalate) -> list[Payload]:
    if not state.exists:
        raise UnknownOrder("no such order")
    if state.closed:
        raise OrderClosed("the order is settled and closed; it can no longer be escalated")
    step = escalation(state.tier, cmd.reason, cmd.trigger)
    if step is None:
        raise TopOfChain("the order is already at HQ, the top of the chain")
    if cmd.to_tier is not None and cmd.to_tier != step.to_tier:
        raise InvalidField("to_tier", f"from {state.tier} the only step is to {step.to_tier} (upward, one tier at a time)")
    return [step]


def _complain(state: OrderState, cmd: ReceiveComplaint) -> list[Payload]:
    events: list[Payload] = []
    opened = not state.exists
    if opened:
        if cmd.report is None:
            raise UnknownOrder("the complaint matches no order and carries no report to open one")
        events = _report(state, cmd.report)
        for data in events:
            state = evolve(state, data, Fact("", state.version + 1, cmd.received_at, cmd.received_at))
    events.append(catalog.ComplaintReceived(
        channel=cmd.channel, severity=cmd.severity, text=cmd.text, provider_id=state.provider_id,
        outlet_id=state.outlet_id, received_at=cmd.received_at, external_ref=cmd.external_ref,
        platform_id=cmd.platform_id, attachments=list(cmd.attachments),
    ))
    # a complaint that opens its order entered one tier up with the platform's report (by nature,
    # once); one against an existing order moves it up a tier, whatever the channel
    step = None if opened else complaint_escalation(state.tier, state.closed, cmd.text)
    return events + ([step] if step is not None else [])


DECIDER: Rules[OrderState, Command] = Rules(lambda _: OrderState(), evolve, decide)
