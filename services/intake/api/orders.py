"""Partner routes: report an order, read it with its timeline, list own orders, escalate."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import and_, or_, select

from libs.events import catalog
from libs.events.backdating import within_window
from libs.events.bounds import WindowDay
from libs.events.chinatime import local_day, midnight
from libs.events.command import Committed
from libs.events.db import reader
from libs.events.status_urls import status_url
from libs.web.auth import Principal
from libs.web.consistency import at_position, committed, position_headers, read_model_at
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, get_runtime
from libs.web.fastpath import JSON_TYPES, with_fast_path
from libs.web.problems import Unprocessable
from libs.web.responses import json_response
from libs.web.scoping import maker_scope, visible_or_404
from libs.web.text import PlainText
from services.intake import handlers
from services.intake.api.common import HOTLINE, PartnerDep, ReporterDep, reads, reporter, timeline
from services.intake.api.idempotency import same_request
from services.intake.api.schemas import (
    REF,
    EscalationAccepted,
    EscalationCreate,
    OrderAccepted,
    OrderCreate,
    OrderPublic,
    OrdersPublic,
    OrderSummary,
)
from services.intake.domain import Escalate, OrderState, ReportOrder
from services.intake.handlers import load, policies
from services.intake.projection import PROJECTION
from services.intake.projection import orders as orders_table

router = APIRouter(tags=["intake: partners"])
READ_MODEL = read_model_at(PROJECTION.name)  # min_position: read-your-writes
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
Status = Literal["reported", "dispatched", "on_site", "repaired", "settled"]
OrderId = Annotated[str, Path(pattern=REF, max_length=200)]
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"


def _report(body: OrderCreate, by: Principal, now: datetime, runtime: Any) -> ReportOrder:
    """The command: a partner's order (channel partner), or one a hotline agent took on the phone
    (channel hotline, no partner) for a brand of the makers it serves; a late-entered one keeps
    the customer's own report time (the warranty is judged on that day)."""
    at = within_window("reported_at", body.reported_at, now) if body.reported_at is not None else None
    today = local_day(min(at, now) if at is not None else now)
    hotline = by.role == HOTLINE
    if hotline and policies(runtime).maker_for(body.product.brand)[0] not in by.parties:
        raise Unprocessable("invalid field(s): product.brand", errors=[{
            "field": "product.brand", "message": "not a brand of the makers this hotline serves",
            "type": "value_error"}])
    return ReportOrder(
        channel="hotline" if hotline else "partner", external_ref=body.partner_ref,
        partner_id=None if hotline else by.party,
        customer=catalog.Customer(**body.customer.model_dump()),
        product=catalog.Product(**body.product.model_dump()),
        location=catalog.Location(**body.location.model_dump()),
        working_conditions=body.working_conditions, fault=body.fault, today=today, policies=policies(runtime),
        reported_at=at,
    )


def _accepted(reported: catalog.OrderReported, done: Committed[OrderState],
              link: str | None) -> dict[str, Any]:
    """The 201 body (OrderAccepted), rendered from plain data (response_model documents it)."""
    return {"customer_link": link,
        "order_id": done.stream_id, "stream_version": done.version, "position": done.position,
        "status_url": at_position(f"/orders/{done.stream_id}", done.position), "maker": reported.maker, "tier": reported.tier,
        "warranty": reported.warranty.model_dump(mode="json"),
    }


async def create_order(
    body: OrderCreate, partner: ReporterDep, request: Request,
    idempotency_key: Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY)] = None,
) -> Response:
    """Report a service order from a partner system; retries with the same Idempotency-Key are safe."""
    runtime = get_runtime(request)  # not a dependency: this is the API's hot path
    command = _report(body, partner, runtime.clock(), runtime)
    done = await handlers.report(runtime, command, partner.actor, idempotency_key, correlation_id())
    reported = done.payloads[0]
    assert isinstance(reported, catalog.OrderReported)
    headers = {"Location": at_position(f"/orders/{done.stream_id}", done.position),
               **position_headers(done.position)}
    if done.replayed:  # a retry under an Idempotency-Key: the first request's event is the answer
        first = catalog.parse(done.events[0])
        assert isinstance(first, catalog.OrderReported)
        moved = command.reported_at is not None and done.events[0].occurred_at != command.reported_at
        if not same_request(first, reported) or moved:
            raise Unprocessable("this Idempotency-Key was already used with a different body",
                                errors=[{"field": "Idempotency-Key", "message": "reused with a different body",
                                         "type": "idempotency_mismatch"}])
        reported, headers["Idempotent-Replayed"] = first, "true"
    first_at = done.events[0].occurred_at if done.events else None
    link = status_url(runtime.settings, done.stream_id, first_at) if first_at else None
    return json_response(_accepted(reported, done, link), 201, headers)


_KEY = re.compile(IDEMPOTENCY_KEY)


async def _create_order_fast(request: Request) -> Response | None:
    """POST /orders without FastAPI's per-request resolution, for a JSON body that validates
    and a well-formed Idempotency-Key (or none). Anything else is declined (None) and gets
    the standard handling, problem documents included: an invalid body from an unknown
    caller is still a 401 there, as dependencies come before body errors."""
    if request.headers.get("content-type") not in JSON_TYPES:
        return None
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.fullmatch(key):
        return None
    try:
        raw = await request.body()
    except HTTPException:
        raise
    except Exception as exc:  # what the standard handler answers when reading the body fails
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
    try:
        body = OrderCreate.model_validate_json(raw)
    except ValidationError:
        return None
    return await create_order(body, await reporter(request), request, key)


router.add_api_route("/orders", create_order, methods=["POST"], status_code=201, response_model=OrderAccepted,
                     responses={409: PROBLEM, 422: PROBLEM, 401: PROBLEM},
                     route_class_override=with_fast_path(_create_order_fast))


@router.get("/orders/{order_id}", dependencies=[READ_MODEL], response_model=OrderPublic, responses={404: PROBLEM})
async def read_order(order_id: OrderId, partner: PartnerDep,
                     runtime: RuntimeDep) -> OrderPublic:
    """One order: its current state and full timeline (every event, who and when)."""
    state, history = await load(runtime, order_id)
    visible_or_404(state, reads(partner, state), f"order {order_id!r}")
    reported = catalog.parse(history[0])
    assert isinstance(reported, catalog.OrderReported)
    return OrderPublic(
        order_id=order_id, status=state.status, closed=state.closed, tier=state.tier, channel=reported.channel,
        external_ref=reported.external_ref, maker=reported.maker, warranty=reported.warranty,
        complaints=state.complaints, version=state.version, reported_at=history[0].occurred_at,
        customer_link=status_url(runtime.settings, order_id, history[0].occurred_at),
        customer=reported.customer, product=reported.product, location=reported.location, fault=reported.fault,
        timeline=timeline(history, for_reporter=partner.role == "partner"),
    )


def _cursor(value: str) -> tuple[datetime, str]:
    try:
        at, order_id = json.loads(base64.urlsafe_b64decode(value.encode()))
        return datetime.fromisoformat(at), str(order_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Unprocessable("invalid field(s): cursor", errors=[
            {"field": "cursor", "message": "not a cursor this API returned", "type": "value_error"}]) from None


def _encode(at: datetime, order_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), order_id]).encode()).decode()


@router.get("/orders", response_model=OrdersPublic)
async def list_orders(
    partner: PartnerDep, runtime: RuntimeDep,
    _at: Annotated[int | None, read_model_at(PROJECTION.name)],
    status: Status | None = None,
    city: Annotated[PlainText | None, Query(max_length=30)] = None,
    reported_from: Annotated[WindowDay | None, Query(description="first day (China time), inclusive")] = None,
    reported_to: Annotated[WindowDay | None, Query(description="last day (China time), inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=300, pattern=r"^[A-Za-z0-9_=-]*$")] = None,
) -> OrdersPublic:
    """The partner's own orders, newest first, filtered by status, city and report date; cursor-paginated."""
    t = orders_table
    query = select(t).order_by(t.c.reported_at.desc(), t.c.order_id.desc()).limit(limit + 1)
    if partner.role == "partner":
        query = query.where(t.c.partner_id == partner.party)
    elif (makers := maker_scope(partner)) is not None:
        query = query.where(t.c.maker.in_(makers))
    if status:
        query = query.where(t.c.status == status)
    if city:
        query = query.where(t.c.city == city)
    if reported_from:
        query = query.where(t.c.reported_at >= midnight(reported_from))
    if reported_to:
        query = query.where(t.c.reported_at < midnight(reported_to + timedelta(days=1)))
    if cursor:
        at, last = _cursor(cursor)
        query = query.where(or_(t.c.reported_at < at, and_(t.c.reported_at == at, t.c.order_id < last)))
    async with reader(runtime.engine).connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    items = [OrderSummary(partner_ref=r["external_ref"], **{k: r[k] for k in OrderSummary.model_fields
                                                             if k != "partner_ref"}) for r in rows[:limit]]
    more = len(rows) > limit
    return OrdersPublic(items=items, next_cursor=_encode(items[-1].reported_at, items[-1].order_id) if more else None)


@router.post("/orders/{order_id}/escalations", status_code=201, response_model=EscalationAccepted,
             responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM})
async def escalate(order_id: OrderId, body: EscalationCreate, partner: PartnerDep, runtime: RuntimeDep) -> EscalationAccepted:
    """Escalate an order one tier up the chain dealer → regional office → HQ."""
    done = await handlers.escalate(runtime, order_id, Escalate(reason=body.reason, to_tier=body.to_tier),
                                   partner.role, partner.party, partner.actor, correlation_id())
    moved = done.payloads[0]
    assert isinstance(moved, catalog.OrderEscalated)
    return EscalationAccepted(order_id=order_id, from_tier=moved.from_tier, to_tier=moved.to_tier,
                              stream_version=done.version, position=committed(done.position))
