"""The v1 event catalog: one pydantic model per (type, schema version), who may emit it,
and the upcasters that lift old stored versions to the current one.

Adding a version: add the model, register it, and register an upcaster from the
previous version. Consumers always see the latest version; the store keeps what was
written (the hash chain covers the original bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from libs.events.bounds import (
    MAX_QUANTITY,
    CatalogDay,
    CatalogMoment,
    Fen,
    Hours,
    Month,
    Quantity,
    SignedFen,
    SlaHours,
    StrictFen,
    StrictSignedFen,
)
from libs.events.envelope import NewEvent, StoredEvent
from libs.events.errors import EmitterNotAllowed, InvalidEventData, UnknownEventType

Tier = Literal["dealer", "regional", "hq"]
TIERS: tuple[Tier, ...] = ("dealer", "regional", "hq")  # the one escalation chain, bottom to top


def next_tier(tier: Tier) -> Tier | None:
    """The tier above `tier`, or None at HQ (the top: nothing escalates past it)."""
    index = TIERS.index(tier)
    return TIERS[index + 1] if index + 1 < len(TIERS) else None


Grade = Literal["A", "B", "C", "D", "E"]
Channel = Literal["partner", "platform", "hotline"]
ComplaintChannel = Literal[
    "platform", "hotline", "web_form", "call_back", "feedback_form", "suggestion_form", "internal_monitor"
]
Payer = Literal["maker", "customer", "lump_sum"]
# the channels a maker's own supervision records complaints on (a platform's come through intake)
QualityChannel = Literal["hotline", "web_form", "call_back", "feedback_form", "suggestion_form", "internal_monitor"]
ReviewChannel = Literal["feedback_form", "call_back"]
Severity = Literal["low", "normal", "high"]


class Payload(BaseModel):
    """Base of all event data models: strict about unknown fields, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Customer(Payload):
    name: str
    phone: str
    address: str
    contact: str | None = None


class Product(Payload):
    category: str
    brand: str
    model: str
    serial: str
    factory_date: CatalogDay | None = None
    purchase_date: CatalogDay | None = None
    quantity: Quantity = 1


class Location(Payload):
    province: str
    city: str
    county: str
    provincial_capital: bool


class Warranty(Payload):
    in_warranty: bool
    coverage: Literal["replacement", "whole_unit", "none"]
    rule: str
    policy: str


class OrderReported(Payload):
    channel: Channel
    external_ref: str
    partner_id: str | None = None
    platform_id: str | None = None
    maker: str
    customer: Customer
    product: Product
    location: Location
    working_conditions: str = ""
    fault: str
    warranty: Warranty
    tier: Tier = "dealer"
    attachments: list[str] = []  # URLs forwarded by a complaint platform


class OrderEscalatedV1(Payload):
    from_tier: Tier
    to_tier: Tier
    reason: str


class OrderEscalated(Payload):
    """v2 adds `trigger`, so SLA breaches and complaints can be counted apart from manual moves."""

    from_tier: Tier
    to_tier: Tier
    reason: str
    trigger: Literal["manual", "sla_breach", "complaint"]
    breach: str | None = None


class OrderDispatched(Payload):
    outlet_id: str
    provider_id: str
    technician_id: str
    sla_due_at: CatalogMoment
    sla_kind: Literal["on_site", "complaint_response"] = "on_site"
    sla_hours: SlaHours
    calendar: str = "24x7"
    window_start: CatalogMoment | None = None  # the appointment window booked with the customer
    window_end: CatalogMoment | None = None


class OrderReassigned(Payload):
    from_outlet_id: str
    outlet_id: str
    provider_id: str
    technician_id: str
    reason: str
    sla_due_at: CatalogMoment


PauseReason = Literal["parts_on_order", "customer_unreachable", "customer_rescheduled"]


class OrderSlaPausedV1(Payload):
    reason: PauseReason
    note: str = ""


class OrderSlaPaused(Payload):
    """v2 links a "parts_on_order" pause to the parts order it waits for (issue 17)."""

    reason: PauseReason
    note: str = ""
    parts_order_id: str | None = None


class OrderSlaResumedV1(Payload):
    note: str = ""


class OrderSlaResumed(Payload):
    """v2 says what resumed the clock: a person, the technician's arrival, or the receipt of
    the parts order the pause waited for (then `parts_order_id` names it)."""

    note: str = ""
    cause: Literal["manual", "arrived", "parts_received"] = "manual"
    parts_order_id: str | None = None


class OrderRescheduled(Payload):
    """The customer moved the appointment (or booked one) from the status page, within the
    policy (domain/windows.py). A later window pauses the on-site SLA with reason
    customer_rescheduled over [sla_paused_from, sla_paused_until); sla_due_at is the new deadline."""

    window_start: CatalogMoment
    window_end: CatalogMoment
    previous_start: CatalogMoment | None = None  # None: the customer booked the first window
    previous_end: CatalogMoment | None = None
    requested_by: Literal["customer"] = "customer"
    pause_reason: Literal["customer_rescheduled"] | None = None
    sla_paused_from: CatalogMoment | None = None
    sla_paused_until: CatalogMoment | None = None
    sla_due_at: CatalogMoment


class OrderOnTheWay(Payload):
    """The technician set out for the customer, with an arrival estimate (a new one replaces it)."""

    technician_id: str
    eta: CatalogMoment


class OrderArrived(Payload):
    arrived_at: CatalogMoment
    staff_count: int = Field(ge=1, le=MAX_QUANTITY)


class PartUsed(Payload):
    part_no: str
    name: str = ""
    quantity: Quantity
    unit_cost_fen: Fen
    original: bool
    serial: str | None = None  # the fitted part's serial (parts: serial search)
    faulty_serial: str | None = None  # the removed faulty part's serial (parts: 旧件返还)


class OrderRepaired(Payload):
    diagnosis: str
    solution: str
    other_services: str = ""
    parts: list[PartUsed] = []
    labour_hours: Hours
    departed_at: CatalogMoment
    test_result: str = ""
    cause_analysis: str = ""
    sales_opportunity: str | None = None


LineKind = Literal["travel", "labour", "part", "lump_sum"]
LineDecision = Literal["approved", "reduced", "rejected"]


class SettlementLineV1(Payload):
    kind: LineKind
    description: str
    quantity: Decimal = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    unit_fen: SignedFen
    amount_fen: SignedFen


class SettlementLine(SettlementLineV1):
    """A priced line: `claimed_fen` is what the standard gives for the claim, `amount_fen` what is
    approved (the settlement pays). `decision` says which, `reason` why, `decided_by` who: a
    finance actor, or `rule` (a rule of settlement, named in `rule`, e.g. non-original parts are
    not reimbursed; a finance override keeps the rule's name)."""

    claimed_fen: SignedFen | None = None  # null only on lines built before decisions: = amount_fen
    decision: LineDecision = "approved"
    reason: str | None = None
    decided_by: str | None = None  # null: the actor who recorded the settlement
    rule: str | None = None


class OrderSettledV1(Payload):
    settlement_id: UUID
    provider_id: str
    maker: str
    payer: Payer
    standard_id: str
    lines: list[SettlementLineV1]
    total_fen: SignedFen
    replaces: UUID | None = None


class OrderSettled(Payload):
    """v2: every line records what was claimed and what was approved, the decision, why and who."""

    settlement_id: UUID
    provider_id: str
    maker: str
    payer: Payer
    standard_id: str
    lines: list[SettlementLine]
    total_fen: SignedFen
    replaces: UUID | None = None


class OrderSettlementReversed(Payload):
    settlement_id: UUID
    reason: str


class OrderReviewed(Payload):
    channel: ReviewChannel
    timeliness: Grade
    quality: Grade
    attitude: Grade
    overall: Literal[1, 2, 3, 4, 5]
    comment: str = ""
    provider_id: str
    outlet_id: str


class ComplaintReceived(Payload):
    complaint_id: UUID = Field(default_factory=uuid4)
    channel: ComplaintChannel
    severity: Severity = "normal"
    text: str
    provider_id: str | None = None
    outlet_id: str | None = None
    received_at: CatalogMoment
    external_ref: str | None = None  # the complaint platform's own reference
    platform_id: str | None = None
    attachments: list[str] = []
    maker: str | None = None  # quality: a complaint about a provider with no order names the maker


class ComplaintResponded(Payload):
    complaint_id: UUID
    response: str


class ComplaintMatched(Payload):
    """A complaint filed without an order (stream `complaint:<id>`) matched by a dispatcher to the
    order it is about; from then on it counts as that order's complaint. `provider_id` and
    `outlet_id` are whom it is charged to (its own, else the order's at the match)."""

    complaint_id: UUID
    order_id: str
    provider_id: str | None = None
    outlet_id: str | None = None


class MonthClosed(Payload):
    month: Month
    maker: str
    scores: list[dict[str, Any]]
    through_position: int | None = None  # quality: the figures count what the log held up to here
    policy: dict[str, Any] | None = None  # quality: the maker's policy the amounts were computed with


class ComplaintBandSpec(Payload):
    max_complaints: StrictInt | None = Field(default=None, ge=0, le=1_000_000)  # inclusive upper edge; None = none
    amount_fen: StrictSignedFen


class SeverityWeights(Payload):
    """What one complaint of each severity counts towards the month's complaint band (seed 004:
    次数和严重程度); all 1 = the seed's table, which counts complaints."""

    low: StrictInt = Field(default=1, ge=0, le=100)
    normal: StrictInt = Field(default=1, ge=0, le=100)
    high: StrictInt = Field(default=1, ge=0, le=100)


NBasis = Literal["repairs", "forms"]


class QualityPolicy(Payload):
    """A maker's policy for the monthly performance score (seed 004), money in fen: the one model
    of it (the event's data, the API's body and answer, the domain's rules all use this one).

    `n_basis` "repairs" (seed: n = 本月维修工作项数, a repair without a form scores 0) or
    "forms" (n = the scored forms); `call_back_percent`: the share of each provider's forms of
    a week that supervision phones back to verify."""

    improvement_reward_fen: StrictFen
    decline_penalty_fen: StrictFen
    all_max_reward_fen: StrictFen
    all_min_penalty_fen: StrictFen
    complaint_bands: list[ComplaintBandSpec] = Field(min_length=1, max_length=20)
    admin_action_threshold: StrictInt = Field(ge=1, le=1_000_000)
    complaint_weights: SeverityWeights = SeverityWeights()
    n_basis: NBasis = "repairs"
    call_back_percent: StrictInt = Field(default=10, ge=0, le=100)

    @field_validator("complaint_bands")
    @classmethod
    def _bands(cls, bands: list[ComplaintBandSpec]) -> list[ComplaintBandSpec]:
        edges = [b.max_complaints for b in bands]
        if not edges or edges[-1] is not None:
            raise ValueError("the last complaint band must have no upper edge")
        bounded = [e for e in edges[:-1] if e is not None]
        if len(bounded) != len(edges) - 1:
            raise ValueError("only the last complaint band may lack an upper edge")
        if any(later <= earlier for earlier, later in pairwise(bounded)):
            raise ValueError("complaint band edges must be strictly increasing")
        return bands


class QualityPolicySetV1(Payload):
    maker: str
    improvement_reward_fen: Fen
    decline_penalty_fen: Fen
    all_max_reward_fen: Fen
    all_min_penalty_fen: Fen
    complaint_bands: list[ComplaintBandSpec]
    admin_action_threshold: int = Field(ge=1)


class QualityPolicySet(QualityPolicy):
    """A maker sets its quality policy; v2 adds severity weights, the basis of n and the call-back share."""

    maker: str


class PartCatalogued(Payload):
    """A maker's part entered or amended in its catalogue (stream `part-{maker}:{part_no}`)."""

    maker: str
    part_no: str
    name: str
    fits_models: list[str] = []
    returnable: bool = False  # the faulty part must go back to the maker (旧件返还)
    return_within_days: int | None = Field(default=None, ge=1)


class PartCostSet(Payload):
    """A new version of a part's cost price, in force from `effective_from` (China day)."""

    maker: str
    part_no: str
    cost_fen: Fen
    effective_from: CatalogDay


class StockLine(Payload):
    part_no: str
    quantity: Quantity


class StockReceived(Payload):
    """Parts put into an outlet's stock (or a technician's van), stream `stock-{outlet_id}`."""

    outlet_id: str
    provider_id: str
    maker: str
    technician_id: str | None = None  # the van; None: the outlet's shelf
    lines: list[StockLine]
    parts_order_id: str | None = None
    note: str = ""


class StockAdjusted(Payload):
    """A count found `counted` where the books had `counted - delta`."""

    outlet_id: str
    provider_id: str
    maker: str
    technician_id: str | None = None
    part_no: str
    counted: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
    delta: Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    reason: str


class StockReturned(Payload):
    """Unused parts sent back from the outlet to the dealer or warehouse."""

    outlet_id: str
    provider_id: str
    maker: str
    technician_id: str | None = None
    lines: list[StockLine]
    reason: str


class ShippedLine(Payload):
    part_no: str
    quantity: Quantity
    unit_cost_fen: Fen


class PartsOrderRequested(Payload):
    """An outlet asks its dealer or the maker's warehouse for parts (stream `parts-order-{id}`)."""

    parts_order_id: str
    maker: str
    outlet_id: str
    provider_id: str
    supplier: str
    lines: list[StockLine]
    for_order_id: str | None = None  # the service order waiting for these parts


class PartsOrderShipped(Payload):
    lines: list[ShippedLine]
    total_fen: int


class PartsOrderReceived(Payload):
    lines: list[StockLine]


class PartReturnShipped(Payload):
    """A faulty part on its way back to the maker (stream `part-return-{id}`)."""

    return_id: str
    order_id: str
    maker: str
    provider_id: str
    outlet_id: str
    part_no: str
    faulty_serial: str
    waybill: str = ""


class PartReturnReceived(Payload):
    note: str = ""


class TechnicianCertified(Payload):
    """The maker certified a technician for a product category until `valid_until` (the last
    China day it holds, inclusive); stream `certification-{maker}:{outlet_id}:{technician_id}`.
    A later one for the same category renews or shortens it (seeds 001, 002: 资格认证)."""

    maker: str
    outlet_id: str
    provider_id: str
    technician_id: str
    category: str
    valid_until: CatalogDay
    certificate_no: str = ""


class CertificationRevoked(Payload):
    """The maker withdrew a technician's certification for a category before it expired."""

    maker: str
    outlet_id: str
    technician_id: str
    category: str
    reason: str


class LeadRule(Payload):
    """One row of a maker's lead routing table: an opportunity whose text holds any keyword
    is of `category` and goes to `route_to` (a store or a department)."""

    category: str
    keywords: list[str]
    route_to: str
    route_kind: Literal["store", "department"] = "department"


class LeadRulesSet(Payload):
    """A maker's lead routing table (stream `lead-rules-{maker}`); the last set is in force."""

    maker: str
    rules: list[LeadRule]
    default_route: str
    default_kind: Literal["store", "department"] = "department"


class LeadOpened(Payload):
    """A technician's sales opportunity (seed 003) became a lead, classified and routed by the
    maker's table in force when it was opened; stream `lead-{order_id}`."""

    order_id: str
    maker: str
    outlet_id: str | None
    provider_id: str | None
    technician_id: str | None
    category: str
    route_to: str
    route_kind: Literal["store", "department"]
    text: str
    noted_at: CatalogMoment  # when the technician recorded it (the repair's departure)


class LeadContacted(Payload):
    note: str = ""


class LeadWon(Payload):
    amount_fen: Fen | None = None  # the sale's value, when known
    note: str = ""


class LeadLost(Payload):
    reason: str


@dataclass(frozen=True)
class EventSpec:
    name: str
    version: int
    model: type[Payload]
    emitters: frozenset[str]


_SPECS: dict[tuple[str, int], EventSpec] = {}
_LATEST: dict[str, int] = {}
_TYPE_OF: dict[type[Payload], str] = {}
_UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def register(type_: str, version: int, model: type[Payload], *emitters: str) -> None:
    _SPECS[(type_, version)] = EventSpec(type_, version, model, frozenset(emitters))
    _LATEST[type_] = max(version, _LATEST.get(type_, 0))
    _TYPE_OF.clear()
    _TYPE_OF.update({_SPECS[(t, v)].model: t for t, v in _LATEST.items()})


def upcaster(type_: str, from_version: int) -> Callable[[Callable[..., dict[str, Any]]], Any]:
    def deco(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        _UPCASTERS[(type_, from_version)] = fn
        return fn

    return deco


register("order.reported", 1, OrderReported, "intake")
register("order.escalated", 1, OrderEscalatedV1, "intake", "dispatch")
register("order.escalated", 2, OrderEscalated, "intake", "dispatch", "quality")  # quality: a complaint from its channels
register("order.dispatched", 1, OrderDispatched, "dispatch")
register("order.reassigned", 1, OrderReassigned, "dispatch")
register("order.sla_paused", 1, OrderSlaPausedV1, "dispatch")
register("order.sla_paused", 2, OrderSlaPaused, "dispatch")
register("order.sla_resumed", 1, OrderSlaResumedV1, "dispatch")
register("order.sla_resumed", 2, OrderSlaResumed, "dispatch")
register("order.rescheduled", 1, OrderRescheduled, "dispatch")
register("order.on_the_way", 1, OrderOnTheWay, "dispatch")
register("order.arrived", 1, OrderArrived, "dispatch")
register("order.repaired", 1, OrderRepaired, "dispatch")
register("order.settled", 1, OrderSettledV1, "settlement")
register("order.settled", 2, OrderSettled, "settlement")
register("order.settlement_reversed", 1, OrderSettlementReversed, "settlement")
register("order.reviewed", 1, OrderReviewed, "quality")
register("complaint.received", 1, ComplaintReceived, "intake", "quality")
register("complaint.responded", 1, ComplaintResponded, "dispatch", "quality")
register("complaint.matched", 1, ComplaintMatched, "dispatch")
register("quality.month_closed", 1, MonthClosed, "quality")
register("quality.policy_set", 1, QualityPolicySetV1, "quality")
register("quality.policy_set", 2, QualityPolicySet, "quality")
register("part.catalogued", 1, PartCatalogued, "parts")
register("part.cost_set", 1, PartCostSet, "parts")
register("stock.received", 1, StockReceived, "parts")
register("stock.adjusted", 1, StockAdjusted, "parts")
register("stock.returned", 1, StockReturned, "parts")
register("parts_order.requested", 1, PartsOrderRequested, "parts")
register("parts_order.shipped", 1, PartsOrderShipped, "parts")
register("parts_order.received", 1, PartsOrderReceived, "parts")
register("part_return.shipped", 1, PartReturnShipped, "parts")
register("part_return.received", 1, PartReturnReceived, "parts")
register("technician.certified", 1, TechnicianCertified, "dispatch")
register("certification.revoked", 1, CertificationRevoked, "dispatch")
register("lead.rules_set", 1, LeadRulesSet, "dispatch")
register("lead.opened", 1, LeadOpened, "dispatch")
register("lead.contacted", 1, LeadContacted, "dispatch")
register("lead.won", 1, LeadWon, "dispatch")
register("lead.lost", 1, LeadLost, "dispatch")


@upcaster("order.escalated", 1)
def _escalated_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 had no trigger; v1 writers put SLA breaches in the reason text."""
    reason = str(data.get("reason", ""))
    trigger = "sla_breach" if reason.lower().startswith("sla") else "manual"
    return {**data, "trigger": trigger, "breach": None}


@upcaster("order.sla_paused", 1)
def _paused_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 pauses named no parts order: nothing resumes them automatically."""
    return {**data, "parts_order_id": None}


@upcaster("order.sla_resumed", 1)
def _resumed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 writers said "technician arrived" in the note when the arrival ended the pause."""
    cause = "arrived" if data.get("note") == "technician arrived" else "manual"
    return {**data, "cause": cause, "parts_order_id": None}


@upcaster("quality.policy_set", 1)
def _policy_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 knew no severity weights, basis of n or call-backs: the defaults (count-only, n = the
    month's repairs as seed 004 defines it, the default call-back share) fill in."""
    return dict(data)


@upcaster("order.settled", 1)
def _settled_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 lines carried only what was paid: everything claimed was approved, by whoever recorded it."""
    lines = [{**line, "claimed_fen": line["amount_fen"], "decision": "approved", "reason": None, "decided_by": None,
              "rule": None} for line in data.get("lines", [])]
    return {**data, "lines": lines}


def spec(type_: str, version: int) -> EventSpec:
    try:
        return _SPECS[(type_, version)]
    except KeyError:
        raise UnknownEventType(f"{type_} v{version} is not in the catalog") from None


def latest_version(type_: str) -> int:
    try:
        return _LATEST[type_]
    except KeyError:
        raise UnknownEventType(f"{type_} is not in the catalog") from None


def type_of(model: type[Payload]) -> str:
    """The type whose latest version this model is (each type's latest model is its own)."""
    try:
        return _TYPE_OF[model]
    except KeyError:
        raise UnknownEventType(f"{model.__name__} is not the latest model of any catalog type") from None


def known_types() -> list[str]:
    return sorted(_LATEST)


class CatalogEvent(NewEvent):
    """A NewEvent that `new_event` built from the catalog's own payload model for its type:
    its data was validated when the payload was, so the store does not parse it again."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        if update and {"type", "schema_version", "data"} & update.keys():
            raise TypeError("a CatalogEvent's payload is fixed: build a new event with new_event")
        return super().model_copy(update=update, deep=deep)


def validate(event: NewEvent) -> None:
    """Refuse an event whose emitter, type, version or data is not what the catalog says."""
    found = spec(event.type, event.schema_version)
    if event.source not in found.emitters:
        raise EmitterNotAllowed(f"service {event.source!r} may not emit {event.type}")
    if type(event) is CatalogEvent:
        return
    try:
        found.model.model_validate(event.data)
    except ValidationError as exc:
        raise InvalidEventData(f"{event.type} v{event.schema_version}: {exc}") from None


def upcast(event: StoredEvent) -> StoredEvent:
    """Lift a stored event to the latest schema version of its type."""
    target = latest_version(event.type)
    if event.schema_version > target:
        raise UnknownEventType(f"{event.type} v{event.schema_version} is newer than this reader (v{target})")
    data, version = event.data, event.schema_version
    while version < target:
        data = _UPCASTERS[(event.type, version)](data)
        version += 1
    if version == event.schema_version:
        return event
    return event.model_copy(update={"data": data, "schema_version": version})


def parse(event: StoredEvent) -> Payload:
    """The typed data of a stored event, upcast to the current version."""
    current = upcast(event)
    return spec(current.type, current.schema_version).model.model_validate(current.data)


def new_event(
    payload: Payload,
    *,
    type_: str,
    source: str,
    actor: str,
    occurred_at: datetime,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
    event_id: UUID | None = None,
) -> NewEvent:
    """Wrap a payload in a NewEvent at the type's latest schema version."""
    version = latest_version(type_)
    model = spec(type_, version).model
    if type(payload) is not model:
        raise InvalidEventData(f"{type_} v{version} carries a {model.__name__}, not a {type(payload).__name__}")
    fields: dict[str, Any] = {
        "type": type_,
        "schema_version": version,
        "source": source,
        "actor": actor,
        "occurred_at": occurred_at,
        "causation_id": causation_id,
        "data": payload.model_dump(mode="json"),
    }
    if correlation_id is not None:
        fields["correlation_id"] = correlation_id
    if event_id is not None:
        fields["id"] = event_id
    return CatalogEvent(**fields)
