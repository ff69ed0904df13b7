"""Complaint-platform routes: signed forwarded reports, and the trail of what was forwarded.

Every request carries `X-Timestamp` (unix seconds), `X-Nonce` and
`X-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{nonce}." + raw body)>`, and
`X-Platform-Id` (default: Settings.platform_id). The secrets are the platform's in the
principals store (`auth.platform_secrets`: two valid during a changeover); a platform never
given one there falls back to Settings.platform_secret (the embedded demo's; a deployment
refuses to start with the published default). A bad signature, a timestamp more than 5
minutes off, or a nonce seen before is a 401 problem, checked before anything is parsed or
written.

A platform reads back what it forwarded: the whole record of an order it reported itself,
and of an order it only complained about, that complaint and the order's status, never the
customer's data, which it did not bring.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from libs.events import catalog
from libs.events.backdating import within_window
from libs.events.chinatime import local_day
from libs.events.db import reader
from libs.events.envelope import StoredEvent
from libs.events.status_urls import status_url
from libs.web import auth
from libs.web.consistency import at_position, committed, position_headers, read_model_at
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep
from libs.web.problems import NotFound, Unauthorized
from libs.web.runtime import Runtime
from services.intake import handlers, queries
from services.intake.api.common import timeline
from services.intake.api.schemas import REF, PlatformAccepted, PlatformOrder, PlatformReport, PlatformTrail
from services.intake.domain import ReceiveComplaint, ReportOrder
from services.intake.handlers import id_key, load, policies, stable_id
from services.intake.projection import PROJECTION
from services.intake.reference import forget_nonces, remember_nonce

router = APIRouter(tags=["intake: complaint platform"])
READ_MODEL = read_model_at(PROJECTION.name)  # min_position: read-your-writes
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
WINDOW = timedelta(minutes=5)
STAMP = re.compile(r"^[0-9]{1,12}$")
NONCE = re.compile(r"^[\x21-\x7e]{8,200}$")
PLATFORM = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The value of X-Signature for a request (what the platform computes too)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def verified_platform(
    request: Request, runtime: RuntimeDep,
    x_timestamp: Annotated[str | None, Header()] = None,
    x_nonce: Annotated[str | None, Header()] = None,
    x_signature: Annotated[str | None, Header()] = None,
    x_platform_id: Annotated[str | None, Header(description="default: PLATFORM_ID")] = None,
) -> str:
    """The platform id, once signature, time window and nonce check out (nothing is written otherwise)."""
    if not x_timestamp or not x_nonce or not x_signature:
        raise Unauthorized("send X-Timestamp, X-Nonce and X-Signature")
    if not STAMP.match(x_timestamp) or not NONCE.match(x_nonce):
        raise Unauthorized("malformed X-Timestamp or X-Nonce")
    if x_platform_id is not None and not PLATFORM.match(x_platform_id):
        raise Unauthorized("malformed X-Platform-Id")
    now = runtime.clock()
    platform_id = x_platform_id or runtime.settings.platform_id
    body = await request.body()
    if not any(hmac.compare_digest(signature(secret, x_timestamp, x_nonce, body), x_signature)
               for secret in await _secrets(runtime, platform_id, now)):
        raise Unauthorized("bad signature")
    if abs(now.timestamp() - int(x_timestamp)) > WINDOW.total_seconds():
        raise Unauthorized("timestamp outside the ±5 minute window")
    if not await remember_nonce(runtime.engine, platform_id, x_nonce, now):
        raise Unauthorized("replayed nonce")
    return platform_id


async def _secrets(runtime: Runtime, platform_id: str, now: datetime) -> list[str]:
    """The secrets a signature may use now: the stored ones; Settings' for the deployment's
    own platform only while the store never held one for it."""
    stored = await auth.platform_secrets(runtime.engine, platform_id, now)
    if stored or platform_id != runtime.settings.platform_id:
        return stored
    if await auth.platform_has_secrets(runtime.engine, platform_id):
        return []  # all of them expired or revoked: the fallback does not bring one back
    return [runtime.settings.platform_secret.get_secret_value()]


async def forget_old_nonces(runtime: Runtime) -> None:
    """Nonces older than twice the window can no longer be replayed (the timestamp check refuses them)."""
    await forget_nonces(runtime.engine, runtime.clock() - 2 * WINDOW)


PlatformDep = Annotated[str, Depends(verified_platform)]


def _forwarded(event: StoredEvent, platform_id: str, ref: str) -> bool:
    """Whether the event is what this platform forwarded under this reference."""
    return event.data.get("platform_id") == platform_id and event.data.get("external_ref") == ref


def _report(body: PlatformReport, platform_id: str, runtime: Runtime) -> ReportOrder:
    return ReportOrder(
        channel="platform", external_ref=body.platform_ref, platform_id=platform_id,
        customer=catalog.Customer(name=body.reporter.name, phone=body.reporter.phone, address=body.address),
        product=catalog.Product(**body.product.model_dump()), location=catalog.Location(**body.region.model_dump()),
        fault=body.text, today=local_day(min(body.reported_at, runtime.clock())), policies=policies(runtime),
        attachments=tuple(body.attachments), reported_at=body.reported_at,
    )


@router.post("/platform/reports", status_code=201, response_model=PlatformAccepted,
             responses={200: {"model": PlatformAccepted}, 401: PROBLEM, 409: PROBLEM, 422: PROBLEM})
async def receive_report(body: PlatformReport, platform_id: PlatformDep, runtime: RuntimeDep) -> Any:
    """A report forwarded by the complaint platform: a repair request or a complaint. The
    customer's own report time (`reported_at`, at most 30 days back) starts the SLA clock."""
    within_window("reported_at", body.reported_at, runtime.clock())
    target = None
    if body.kind == "complaint":
        target = await handlers.complaint_target(runtime, platform_id, body.order_id, body.related_ref,
                                                 body.reporter.phone, body.product.serial)
    key = id_key(runtime.settings)
    order_id = target or str(stable_id(key, "platform-order", platform_id, body.platform_ref))
    report = _report(body, platform_id, runtime)
    command: ReportOrder | ReceiveComplaint = report if body.kind == "repair" else ReceiveComplaint(
        text=body.text, received_at=body.reported_at, severity=body.severity, external_ref=body.platform_ref,
        platform_id=platform_id, attachments=tuple(body.attachments), report=report,
    )
    opens = target is None  # the customer's time is when the order happened; a complaint on a known
    # order carries it as received_at and is recorded now
    done = await handlers.forward(runtime, order_id, body.kind, platform_id, body.platform_ref, command,
                                  correlation_id(), body.reported_at if opens else None)
    answer = PlatformAccepted(platform_ref=body.platform_ref, order_id=order_id, opened=done.opened,
                              events=done.types, stream_version=done.version, position=committed(done.position),
                              status_url=at_position(f"/platform/orders/{body.platform_ref}", done.position))
    if done.resent:  # the platform re-sent what is already recorded
        return JSONResponse(answer.model_dump(mode="json"), status_code=200,
                            headers=position_headers(done.position))
    return answer


@router.get("/platform/orders/{platform_ref}", dependencies=[READ_MODEL], response_model=PlatformTrail,
             responses={401: PROBLEM, 404: PROBLEM})
async def platform_trail(platform_ref: Annotated[str, Path(pattern=REF, max_length=100)], platform_id: PlatformDep,
                         runtime: RuntimeDep) -> PlatformTrail:
    """Everything that happened to what the platform forwarded under this reference."""
    async with reader(runtime.engine).connect() as conn:
        found = await queries.orders_for_platform_ref(conn, platform_id, platform_ref)
    orders: list[PlatformOrder] = []
    for order_id, kind in found:
        state, history = await load(runtime, order_id)
        reported = catalog.parse(history[0])
        assert isinstance(reported, catalog.OrderReported)
        own = reported.platform_id == platform_id
        link = status_url(runtime.settings, order_id, history[0].occurred_at) if own else None
        if not own:  # only complained about: its complaint alone, and no customer link
            history = [e for e in history if _forwarded(e, platform_id, platform_ref)]
        complaints = sum(e.type == "complaint.received" for e in history)
        orders.append(PlatformOrder(order_id=order_id, kind=kind, status=state.status, closed=state.closed,
                                    tier=state.tier, maker=reported.maker, complaints=complaints,
                                    customer_link=link,
                                    timeline=timeline(history, for_reporter=True)))
    if not orders:
        raise NotFound(f"nothing forwarded under {platform_ref!r}")
    return PlatformTrail(platform_ref=platform_ref, orders=orders)
