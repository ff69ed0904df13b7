"""Ops routes: notifications by delivery state, requeueing failed ones, revoking a status link.

The operator and the admin read (no viewer: these rows span every maker); only the admin
writes (the operator role never writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from libs.events import status_urls as links
from libs.events.db import reader
from libs.events.sqlutil import upsert
from libs.web.auth import Principal
from libs.web.deps import RoleCheck, RuntimeDep, require
from libs.web.problems import NotFound
from libs.web.runtime import Runtime
from services.notify import queries
from services.notify.outbox import Outbox
from services.notify.projection import order as read_order
from services.notify.tables import link_opens, link_revocations

OUTBOX = "notify.outbox"
router = APIRouter(tags=["notify: ops"])
Ops = Annotated[Principal, Depends(RoleCheck(("operator", "admin"), readers=False))]
Admin = Annotated[Principal, Depends(require("admin"))]
State = Literal["pending", "delivered", "failed", "suppressed", "cancelled"]


def outbox_of(runtime: Runtime) -> Outbox:
    outbox: Outbox = runtime.state[OUTBOX]
    return outbox


class NotificationPublic(BaseModel):
    id: UUID
    order_id: str
    step: str
    channel: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    template: str
    provider_ref: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class NotificationsPublic(BaseModel):
    items: list[NotificationPublic]
    counts: dict[str, int]


class Requeue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[UUID] = Field(min_length=1, max_length=500)


class Requeued(BaseModel):
    requeued: int


class LinkPublic(BaseModel):
    order_id: str
    status: str
    status_link: str | None
    feedback_given: bool
    opens: int
    revoked_before: datetime | None


class LinkReissued(BaseModel):
    order_id: str
    revoked_before: datetime
    status_link: str | None


@router.get("/ops/notifications", response_model=NotificationsPublic)
async def notifications(
    runtime: RuntimeDep, _principal: Ops, state: State | None = None,
    order_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Customer notifications, newest first, with their delivery state (no message text)."""
    items = await queries.list_notifications(runtime.engine, state=state, order_id=order_id,
                                             limit=limit)
    return {"items": items, "counts": await queries.counts_by_state(runtime.engine)}


@router.post("/ops/notifications/requeue", response_model=Requeued)
async def requeue(body: Requeue, runtime: RuntimeDep, _principal: Admin) -> Requeued:
    """Send failed notifications again from scratch (only rows in state failed change)."""
    return Requeued(requeued=await outbox_of(runtime).requeue(body.ids))


@router.post("/ops/status-links/{order_id}/revocation", response_model=LinkReissued)
async def revoke_link(order_id: Annotated[str, Path(min_length=1, max_length=200)],
                      runtime: RuntimeDep, principal: Admin) -> LinkReissued:
    """Refuse every status link of the order issued so far; answers the order's new link."""
    now = runtime.clock()
    row = {"order_id": order_id, "revoked_before": now, "revoked_by": principal.actor[:130]}
    async with runtime.engine.begin() as conn:
        await upsert(conn, link_revocations, [row], ["order_id"])
    return LinkReissued(order_id=order_id, revoked_before=now, status_link=links.status_url(
        runtime.settings, order_id, links.reissued_at(now)))


@router.get("/ops/status-links/{order_id}", response_model=LinkPublic)
async def link_of(order_id: Annotated[str, Path(min_length=1, max_length=200)],
                  runtime: RuntimeDep, _principal: Ops) -> LinkPublic:
    """The order's status link in force and how often the customer opened it (to resend it)."""
    async with reader(runtime.engine).connect() as conn:
        row = await read_order(conn, order_id)
        if row is None:
            raise NotFound(f"no order {order_id!r} in the notify read model")
        revoked = (await conn.execute(select(link_revocations.c.revoked_before).where(
            link_revocations.c.order_id == order_id))).scalar()
        opens = int((await conn.execute(select(func.count()).select_from(link_opens).where(
            link_opens.c.order_id == order_id))).scalar() or 0)
    link = links.current_url(runtime.settings, order_id, row["reported_at"], revoked)
    return LinkPublic(order_id=order_id, status=row["status"], status_link=link,
                      feedback_given=row["reviewed"], opens=opens, revoked_before=revoked)
