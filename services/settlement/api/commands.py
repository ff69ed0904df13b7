"""Settlement commands over HTTP (approve, correct, reverse) and the order-level reads.

Commands go through `services.settlement.handlers` (load, decide, append; a concurrent
change is decided again). Reports live in `api/queries.py`, fee standards in
`api/standards.py`; `api/__init__.py` mounts all three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Query

from libs.events import catalog
from libs.web.auth import Principal
from libs.web.consistency import committed, read_model_at
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.runtime import Runtime
from libs.web.scoping import maker_scope, sees, visible_or_404
from services.settlement import handlers, queries
from services.settlement.api.schemas import SettlementApprove, SettlementCorrect, SettlementPublic, SettlementReverse
from services.settlement.domain import ApproveSettlement, Command, CorrectSettlement, ReverseSettlement
from services.settlement.domain.standards import FeeStandard
from services.settlement.projection import PROJECTION

router = APIRouter(tags=["settlement"])
READ_MODEL = read_model_at(PROJECTION.name)  # min_position: read-your-writes
Finance = Annotated[Principal, Depends(require("finance"))]
Reader = Annotated[Principal, Depends(require("finance", "supervisor"))]


async def _execute(runtime: Runtime, order_id: str, principal: Principal,
                   make: Callable[[FeeStandard | None], Command]) -> SettlementPublic:
    done = await handlers.settle(runtime, order_id, maker_scope(principal), principal.actor, make, correlation_id())
    settled = [p for p in done.payloads if isinstance(p, catalog.OrderSettled)]
    reversed_ = [str(p.settlement_id) for p in done.payloads if isinstance(p, catalog.OrderSettlementReversed)]
    return SettlementPublic(order_id=order_id, version=done.version, settlement=settled[0] if settled else None,
                            reversed=reversed_, position=committed(done.position))


@router.get("/settlements/open", dependencies=[READ_MODEL])
async def open_settlements(runtime: RuntimeDep, principal: Reader,
                           provider: Annotated[str | None, Query(max_length=100)] = None) -> dict[str, Any]:
    """Repaired orders not yet settled, each with its proposed settlement (oldest repair first)."""
    items = await queries.open_orders(runtime.engine, maker_scope(principal), provider)
    return {"items": items, "count": len(items), "total_proposed_fen": sum(
        i["proposal"]["total_fen"] for i in items if i["proposal"])}


@router.get("/settlements/{order_id}", dependencies=[READ_MODEL])
async def read_settlement(order_id: str, runtime: RuntimeDep, principal: Reader) -> dict[str, Any]:
    """One order's settlement facts, its settlement history and, while open, its proposal."""
    found = await queries.order_detail(runtime.engine, order_id)
    allowed = found is not None and sees(principal, maker=found["maker"])  # no maker known: nobody's but ops
    return visible_or_404(found, allowed, f"order {order_id}")


@router.post("/settlements/{order_id}", status_code=201)
async def approve_settlement(order_id: str, body: SettlementApprove, runtime: RuntimeDep,
                             principal: Finance) -> SettlementPublic:
    """Approve the proposed settlement of a repaired order, line by line if finance decides lines
    (approve, reduce, reject, each with a reason; the rest as proposed): appends order.settled."""
    decisions = tuple(d.review() for d in body.lines)
    return await _execute(runtime, order_id, principal, lambda standard: ApproveSettlement(
        uuid4(), standard, body.distance_km, decisions, principal.actor))


@router.post("/settlements/{order_id}/corrections", status_code=201)
async def correct_settlement(order_id: str, body: SettlementCorrect, runtime: RuntimeDep,
                             principal: Finance) -> SettlementPublic:
    """Correct a settlement (with new line decisions, if any): appends a reversal and a new
    settlement that replaces it."""
    decisions = tuple(d.review() for d in body.lines)
    return await _execute(runtime, order_id, principal, lambda standard: CorrectSettlement(
        uuid4(), body.reason, standard, body.distance_km, decisions, principal.actor))


@router.post("/settlements/{order_id}/reversal", status_code=201)
async def reverse_settlement(order_id: str, body: SettlementReverse, runtime: RuntimeDep,
                             principal: Finance) -> SettlementPublic:
    """Reverse a settlement without replacing it: the order is open for settlement again."""
    return await _execute(runtime, order_id, principal, lambda _standard: ReverseSettlement(body.reason))

