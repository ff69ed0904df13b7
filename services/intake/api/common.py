"""What the intake routes share: loading an order, appending decisions, problems, time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID, uuid5

from fastapi import Depends, Request

from libs.events import catalog
from libs.events.envelope import StoredEvent
from libs.events.errors import UnknownEventType
from libs.events.store import AppendResult
from libs.web.auth import Principal
from libs.web.context import correlation_id
from libs.web.deps import authenticate
from libs.web.problems import Conflict, Forbidden, NotFound, Problem, Unprocessable
from libs.web.runtime import Runtime
from services.intake.api.schemas import TimelineEntry
from services.intake.domain import (
    DomainError,
    Event,
    InvalidField,
    OrderState,
    PolicyBook,
    UnknownOrder,
    evolve,
)

SOURCE = "intake"
NAMESPACE = UUID("6d1f2f7e-6a43-4bde-9a36-1f0b5d9c0e11")  # deterministic ids for idempotent retries
CHINA = timedelta(hours=8)  # purchase and factory dates are calendar days in China (no DST)


async def partner(request: Request) -> Principal:
    """Partners (and operators) only, as `require("partner")` does (one dependency level, see
    `libs.web.deps.authenticate`)."""
    principal = await authenticate(request, request.headers.get("authorization"))
    if principal.role not in ("partner", "operator"):
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of partner")
    return principal


PartnerDep = Annotated[Principal, Depends(partner)]


def stable_id(*parts: str) -> UUID:
    """The same id for the same request parts: a retried append is recognised by the store."""
    return uuid5(NAMESPACE, "\x1f".join(parts))


def china_today(now: datetime) -> date:
    return (now + CHINA).date()


def policies(runtime: Runtime) -> PolicyBook:
    """The warranty policy book, parsed once per process from Settings."""
    book = runtime.state.get("intake.policies")
    if not isinstance(book, PolicyBook):
        book = PolicyBook.from_json(runtime.settings.intake_warranty_policies)
        runtime.state["intake.policies"] = book
    return book


async def load(runtime: Runtime, order_id: str) -> tuple[OrderState, list[StoredEvent]]:
    """The order's state and its history (upcast), read from the store."""
    history = [catalog.upcast(e) for e in await runtime.store.read_stream(order_id)]
    state = OrderState()
    for event in history:
        try:
            state = evolve(state, event.type, catalog.parse(event))
        except UnknownEventType:
            state = replace(state, version=event.version)
    return state, history


def visible(state: OrderState, principal: Principal) -> bool:
    """A partner sees only its own orders; operators see all."""
    return state.exists and (principal.role == "operator" or state.partner_id == principal.party)


async def append(
    runtime: Runtime, order_id: str, decided: Sequence[Event], expected: int, actor: str,
    ids: Sequence[UUID] | None = None,
) -> AppendResult:
    """Wrap the decisions in envelopes and append them at the version they were decided on."""
    now, cid = runtime.clock(), correlation_id()
    events = [
        catalog.new_event(payload, type_=type_, source=SOURCE, actor=actor, occurred_at=now, correlation_id=cid,
                          event_id=ids[i] if ids else None)
        for i, (type_, payload) in enumerate(decided)
    ]
    return await runtime.store.append(order_id, events, expected)


def problem(exc: DomainError) -> Problem:
    """The problem document for a refused command."""
    if isinstance(exc, InvalidField):
        return Unprocessable(f"invalid field(s): {exc.field}",
                             errors=[{"field": exc.field, "message": exc.message, "type": "value_error"}])
    if isinstance(exc, UnknownOrder):
        return NotFound(str(exc))
    return Conflict(str(exc))


def timeline(history: Sequence[StoredEvent]) -> list[TimelineEntry]:
    return [
        TimelineEntry(version=e.version, position=e.position, type=e.type, occurred_at=e.occurred_at,
                      recorded_at=e.recorded_at, actor=e.actor, source=e.source, data=e.data)
        for e in history
    ]
