"""`GET /history/orders/{id}?as_of=`: one order's state and timeline as it stood then.

The live route's own code answers, run against the store as it stood at `as_of`
(`libs.events.history.StoreAsOf`): the same fold, the same view, the same access rule
(a partner sees only its own orders; an order that did not exist yet is a 404).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query

from libs.events.history import AsOf, StoreAsOf
from libs.events.store import SqlEventStore
from libs.web.deps import RuntimeDep
from libs.web.problems import Unprocessable
from libs.web.runtime import Runtime
from services.intake.api.common import PartnerDep
from services.intake.api.orders import OrderId, read_order
from services.intake.api.schemas import OrderPublic

router = APIRouter(tags=["history"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
AS_OF_HELP = "a global position (digits: the log's head then) or an ISO 8601 time with its offset"


def as_of_param(value: str) -> AsOf:
    """The `as_of` query value, or a 422 naming the field."""
    try:
        return AsOf.parse(value)
    except ValueError as exc:
        raise Unprocessable(
            "invalid field(s): as_of",
            errors=[{"field": "as_of", "message": str(exc), "type": "value_error"}],
        ) from None


def runtime_as_of(runtime: Runtime, at: AsOf) -> Runtime:
    """A shallow copy of the runtime whose store is the read-only past (appends refused)."""
    past = copy.copy(runtime)
    past.store = cast(SqlEventStore, StoreAsOf(runtime.store, at))
    return past


@router.get(
    "/history/orders/{order_id}", response_model=OrderPublic, responses={404: PROBLEM, 422: PROBLEM}
)
async def read_order_as_of(
    order_id: OrderId,
    partner: PartnerDep,
    runtime: RuntimeDep,
    as_of: Annotated[str, Query(max_length=40, description=AS_OF_HELP)],
) -> OrderPublic:
    """The order as the live `GET /orders/{id}` answered when the store stood at `as_of`."""
    return await read_order(order_id, partner, runtime_as_of(runtime, as_of_param(as_of)))
