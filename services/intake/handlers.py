"""Intake's use cases, one per command: report, escalate, a platform's forwarded report.
Each loads the order, decides and appends through libs.events.command.execute. No FastAPI."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from libs.events import catalog
from libs.events.command import Committed, execute, fold, to_events
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.errors import ConcurrencyConflict, DuplicateEventId
from libs.events.settings import Settings
from libs.events.store import AppendResult
from libs.web.runtime import Runtime
from services.intake import queries
from services.intake.domain import (
    DECIDER,
    Command,
    DuplicateReference,
    Escalate,
    InvalidField,
    OrderState,
    PolicyBook,
    ReceiveComplaint,
    ReportOrder,
    UnknownOrder,
    resent,
    visible,
)

SOURCE = "intake"
DEMO_ID_KEY = b"demo-intake-id-key"  # the embedded demo's only; a deployment sets INTAKE_ID_KEY


def id_key(settings: Settings) -> bytes:
    """The per-deployment key of the stable ids (`Settings.check_secrets` refuses to start
    intake without one outside the demo)."""
    if settings.intake_id_key is not None and settings.intake_id_key.get_secret_value():
        return settings.intake_id_key.get_secret_value().encode()
    if settings.demo:
        return DEMO_ID_KEY
    raise RuntimeError("INTAKE_ID_KEY is not set (see Settings.check_secrets)")


def stable_id(key: bytes, *parts: str) -> UUID:
    """The same id for the same request parts under one deployment's key, so a retried append
    is recognised by the store; without the key nobody can compute it from the request."""
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


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
    return fold(DECIDER, order_id, history), history


async def _execute(
    runtime: Runtime, order_id: str, command: Command | object, actor: str, expected: int | None = None,
    ids: Sequence[UUID] | None = None, correlation_id: UUID | None = None, occurred_at: datetime | None = None,
) -> Committed[OrderState]:
    return await execute(runtime.store, order_id, DECIDER, command, actor, expected,  # type: ignore[arg-type]
                         source=SOURCE, now=runtime.clock, correlation_id=correlation_id, event_ids=ids,
                         occurred_at=occurred_at)


async def report(
    runtime: Runtime, command: ReportOrder, actor: str, key: str | None, correlation_id: UUID | None,
) -> Committed[OrderState]:
    """A partner's new order; under an Idempotency-Key the order and event ids are stable, so
    a retry is recognised by the store (`replayed`). A phoned-in or paper order carries the
    customer's own report time (`command.reported_at`, inside the late-entry window): the
    event's occurred time, beside the time it was recorded."""
    owner = command.partner_id or actor  # a hotline agent's keys and references are its own
    secret = id_key(runtime.settings)
    # One reference, one stream: the store's (stream, version) uniqueness refuses a second report
    # of the reference however the requests race; the key only fixes the event id (retries).
    order_id = str(stable_id(secret, "order-ref", owner, command.external_ref))
    ids = None if key is None else [stable_id(secret, "event", owner, key)]
    try:
        return await _execute(runtime, order_id, command, actor, 0, ids, correlation_id, command.reported_at)
    except ConcurrencyConflict:
        raise DuplicateReference(command.external_ref, order_id) from None
    except DuplicateEventId:
        raise InvalidField("Idempotency-Key", "already used with a different body") from None


async def escalate(
    runtime: Runtime, order_id: str, command: Escalate, role: str, party: str | None, actor: str,
    correlation_id: UUID | None,
) -> Committed[OrderState]:
    async def build(state: OrderState) -> Command:
        if not visible(state, role, party):
            raise UnknownOrder(f"no order {order_id!r}")
        return command

    return await _execute(runtime, order_id, build, actor, correlation_id=correlation_id)


async def complaint_target(
    runtime: Runtime, platform_id: str, order_id: str | None, related_ref: str | None, phone: str, serial: str,
) -> str | None:
    """The existing order a complaint is about: named by id, else by an earlier platform
    reference, else the newest order of this phone for this serial."""
    if order_id and (await load(runtime, order_id))[0].exists:
        return order_id
    async with reader(runtime.engine).connect() as conn:
        if related_ref and (found := await queries.orders_for_platform_ref(conn, platform_id, related_ref)):
            return found[0][0]
        return await queries.latest_order_for(conn, phone, serial) if serial else None


@dataclass(frozen=True)
class Forwarded:
    """What a platform's report did: the order, whether it opened it, and where it landed
    (`resent`: the platform sent it before, nothing was appended)."""

    order_id: str
    opened: bool
    types: list[str]
    version: int
    position: int
    resent: bool = False


class _Resent(Exception):
    def __init__(self, state: OrderState, position: int) -> None:
        self.state, self.position = state, position


async def forward(
    runtime: Runtime, order_id: str, kind: Literal["repair", "complaint"], platform_id: str, ref: str,
    command: ReportOrder | ReceiveComplaint, correlation_id: UUID | None, occurred_at: datetime | None = None,
) -> Forwarded:
    """Record what a platform forwarded; a report that opens an order happened when the customer
    reported it to the platform (`occurred_at`), not when the platform passed it on."""
    opened: list[bool] = []

    async def build(state: OrderState) -> Command:
        if (position := resent(state, kind, platform_id, ref)) is not None:
            raise _Resent(state, position)
        opened.append(not state.exists)
        return command

    secret = id_key(runtime.settings)
    ids = [stable_id(secret, "platform-event", platform_id, ref, kind, str(i)) for i in range(3)]
    try:
        done = await _execute(runtime, order_id, build, f"platform:{platform_id}", None, ids, correlation_id,
                              occurred_at)
    except _Resent as exc:
        return Forwarded(order_id, False, [], exc.state.version, exc.position, resent=True)
    return Forwarded(order_id, opened[-1], [catalog.type_of(type(p)) for p in done.payloads], done.version,
                     done.position)


async def append(
    runtime: Runtime, order_id: str, payloads: Sequence[catalog.Payload], expected: int, actor: str,
    at: datetime | None = None,
) -> AppendResult:
    """The store's part alone (bench reference figure): append decided payloads, no fold."""
    events = to_events(payloads, source=SOURCE, actor=actor, occurred_at=at or runtime.clock())
    return await runtime.store.append(order_id, events, expected)
