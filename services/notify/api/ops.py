"""Ops routes: notifications by delivery state, requeueing failed ones, revoking a status link.

Operator and admin only (the operator may requeue too: it is the on-call's tool)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from libs.events.sqlutil import upsert
from libs.web.auth import Principal
from libs.web.deps import RuntimeDep, require
from libs.web.runtime import Runtime
from services.notify import links, queries
from services.notify.outbox import Outbox
from services.notify.tables import link_revocations

OUTBOX = "notify.outbox"
router = APIRouter(tags=["notify: ops"])
Ops = Annotated[Principal, Depends(require("operator", "admin"))]
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
async def requeue(body: Requeue, runtime: RuntimeDep, _principal: Ops) -> Requeued:
    """Send failed notifications again from scratch (only rows in state failed change)."""
    return Requeued(requeued=await outbox_of(runtime).requeue(body.ids))


@router.post("/ops/status-links/{order_id}/revocation", response_model=LinkReissued)
async def revoke_link(order_id: Annotated[str, Path(min_length=1, max_length=200)],
                      runtime: RuntimeDep, principal: Ops) -> LinkReissued:
    """Refuse every status link of the order issued so far; answers the order's new link."""
    now = runtime.clock()
    row = {"order_id": order_id, "revoked_before": now, "revoked_by": principal.actor[:130]}
    async with runtime.engine.begin() as conn:
        await upsert(conn, link_revocations, [row], ["order_id"])
    issued = now.replace(microsecond=0) + timedelta(seconds=1)  # after the revocation
    return LinkReissued(order_id=order_id, revoked_before=now,
                        status_link=links.status_url(runtime.settings, order_id, issued))
