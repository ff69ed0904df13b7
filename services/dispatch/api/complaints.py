"""Commands on a complaint by its id: answer it (with or without an order) and match a complaint
filed without an order to the order it is about. HTTP only; the rules are in domain/loose.py."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from libs.web.auth import Principal
from libs.web.consistency import committed
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.problems import NotFound
from libs.web.scoping import maker_scope
from services.dispatch import queries
from services.dispatch.api.schemas import RespondIn
from services.dispatch.api.schemas.commands import ComplaintAccepted, MatchIn
from services.dispatch.domain import Command, RespondComplaint, SlaPolicy, State
from services.dispatch.domain.access import not_in_future
from services.dispatch.domain.loose import loose_stream
from services.dispatch.handlers import answer_loose, match_loose, run

router = APIRouter(prefix="/dispatch/complaints", tags=["dispatch"])
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]


@router.post("/{complaint_id}/respond", response_model=ComplaintAccepted)
async def respond(complaint_id: UUID, body: RespondIn, runtime: RuntimeDep, principal: Dispatcher) -> ComplaintAccepted:
    """Answer a complaint by its id, whether it came with an order or without one (the 1-hour response SLA stops here)."""
    now = runtime.clock()
    at = body.occurred_at or now
    if await runtime.store.stream_version(loose_stream(complaint_id)):
        done = await answer_loose(runtime, complaint_id, maker_scope(principal), principal.actor, body.response, at,
                                  correlation_id())
        return _accepted(complaint_id, done.stream_id, done.version, [e.type for e in done.events], done.position)
    order_id = await queries.complaint_order(runtime.engine, str(complaint_id))
    if order_id is None:
        raise NotFound(f"complaint {complaint_id} not found")
    not_in_future("occurred_at", at, now)

    async def build(state: State, policy: SlaPolicy) -> Command:
        return RespondComplaint(complaint_id, body.response, at)

    answered = await run(runtime, order_id, principal.role, principal.party, principal.actor, at, build,
                         correlation_id())
    return _accepted(complaint_id, order_id, answered.version, [e.type for e in answered.events], answered.position)


@router.post("/{complaint_id}/order", response_model=ComplaintAccepted)
async def match_order(complaint_id: UUID, body: MatchIn, runtime: RuntimeDep, principal: Dispatcher) -> ComplaintAccepted:
    """Match a complaint filed without an order to the order it is about; it then counts as that order's
    complaint and moves the order up a tier (once; the same match again is a harmless retry)."""
    done, moved = await match_loose(runtime, complaint_id, maker_scope(principal), principal.actor, body.order_id,
                                    correlation_id())
    events = [e.type for e in (*done.events, *moved.events)]
    return _accepted(complaint_id, done.stream_id, done.version, events, max(done.position, moved.position))


def _accepted(complaint_id: UUID, stream: str, version: int, events: list[str], position: int) -> ComplaintAccepted:
    return ComplaintAccepted(complaint_id=str(complaint_id), stream_id=stream, version=version, events=events,
                             position=committed(position))
