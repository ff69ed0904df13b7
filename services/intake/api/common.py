"""What the intake routes share: the partner dependency, China days, the timeline view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from libs.events.envelope import StoredEvent
from libs.web.auth import Principal
from libs.web.deps import SAFE_METHODS, authenticate
from libs.web.problems import Forbidden
from libs.web.scoping import sees
from services.intake.api.schemas import TimelineEntry
from services.intake.domain import OrderState, visible

HOTLINE = "hotline"  # a call centre agent: files orders for its makers' customers, reads them


async def partner(request: Request) -> Principal:
    """Partners only, as `require("partner")` does (one dependency level, see
    `libs.web.deps.authenticate`); the read-only roles and hotline agents pass its reads."""
    principal = await authenticate(request, request.headers.get("authorization"))
    reader = principal.read_only or principal.role == HOTLINE
    if principal.role != "partner" and not (reader and request.method in SAFE_METHODS):
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of partner")
    return principal


async def reporter(request: Request) -> Principal:
    """Who may report an order: a partner (its own), or a hotline agent (channel hotline)."""
    principal = await authenticate(request, request.headers.get("authorization"))
    if principal.role not in ("partner", HOTLINE):
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of partner, hotline")
    return principal


def reads(principal: Principal, state: OrderState) -> bool:
    """A partner reads the orders it reported; a hotline agent or a read-only role those of its
    makers (all: the operator)."""
    if principal.role == "partner":
        return visible(state, principal.role, principal.party)
    return state.exists and sees(principal, maker=state.maker)


PartnerDep = Annotated[Principal, Depends(partner)]
ReporterDep = Annotated[Principal, Depends(reporter)]


# What a partner's timeline keeps of a settlement the maker pays: that it happened, not the
# amounts the maker and the provider agreed (lines, total, the fee standard).
SETTLEMENT_KEPT = ("settlement_id", "payer", "replaces", "reason")


def _data(event: StoredEvent, for_reporter: bool) -> dict[str, Any]:
    if for_reporter and event.type == "order.settled" and event.data.get("payer") != "customer":
        return {k: event.data[k] for k in SETTLEMENT_KEPT if k in event.data}
    return event.data


def timeline(history: Sequence[StoredEvent], for_reporter: bool = False) -> list[TimelineEntry]:
    """Every event, who and when; `for_reporter` (a partner, a platform) leaves out the
    maker↔provider settlement amounts."""
    return [
        TimelineEntry(version=e.version, position=e.position, type=e.type, occurred_at=e.occurred_at,
                      recorded_at=e.recorded_at, actor=e.actor, source=e.source,
                      data=_data(e, for_reporter))
        for e in history
    ]
