"""Read-your-writes: a command answer says which global position it committed; a query
given that position answers only once its read model has reached it — never stale.

The contract (README, "Consistency"):
- a command answer carries the position of its last event, in the `X-Position` header and a
  `position` body field: the route writes `position=committed(done.position)` into its answer
  model and `ANSWER_HOOK` (mounted once over every service router, libs/web/app.py) hands
  `committed` the request's response, so no route signature carries a `Response`;
- links the API hands out (`status_url`, `Location`) carry `?min_position=N` (`at_position`);
- a query route that declares `Depends(read_model_at(PROJECTION))` accepts `min_position`
  (query parameter) or the `X-Min-Position` header; it waits until the projection's
  checkpoint, read from the database (so the projector may run in another process), is at
  least that, woken by notification rather than polling, for up to READ_YOUR_WRITES_WAIT
  seconds (2 by default); then it answers 503 with Retry-After, as an RFC 9457 problem.

A custom header, not a standard one: no standard header carries a log position (ETag names
one representation, not a point of the whole store), and it follows `X-Request-ID`'s habit.
Without `min_position` a query answers at once from whatever the read model holds.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response

from libs.web.deps import get_runtime
from libs.web.problems import Problem, Unprocessable

POSITION_HEADER = "X-Position"
MIN_POSITION_HEADER = "X-Min-Position"
MAX_POSITION = 2**63 - 1  # a PostgreSQL bigint


_ANSWER: ContextVar[Response | None] = ContextVar("answer", default=None)


async def _hold_answer(response: Response) -> None:
    """FastAPI gives every dependency of one request the same `Response`, whose headers it
    copies onto the answer; holding it lets `committed` set the header from any helper."""
    _ANSWER.set(response)


ANSWER_HOOK = Depends(_hold_answer)


def committed(position: int, body: dict[str, Any] | None = None) -> int:
    """Put the committed position into a command answer: the `X-Position` header (on the
    response `ANSWER_HOOK` holds) and `body["position"]` when given; returns it for a model."""
    response = _ANSWER.get()
    if response is not None:
        response.headers[POSITION_HEADER] = str(position)
    if body is not None:
        body["position"] = position
    return position


def at_position(path: str, position: int) -> str:
    """A link the API hands out (`status_url`, `Location`): following it waits for the write."""
    return f"{path}?min_position={position}"


def position_headers(position: int) -> dict[str, str]:
    """The same header, for answers built from a headers dict."""
    return {POSITION_HEADER: str(position)}


class ReadModelBehind(Problem):
    status, title = 503, "Read model behind"


def read_model_at(projection: str) -> Any:
    """A dependency for query routes reading `projection`: waits for `min_position` (see above);
    returns the position the read model has reached (None when no position was asked for)."""

    async def wait(
        request: Request,
        min_position: Annotated[int | None, Query(
            ge=0, le=MAX_POSITION, description="answer only once the read model has reached this "
            "global position (a command answer's X-Position); 503 with Retry-After if it does not in time",
        )] = None,
        x_min_position: Annotated[int | None, Header(
            ge=0, le=MAX_POSITION, description="the same as min_position, as a header",
        )] = None,
    ) -> int | None:
        asked = [p for p in (min_position, x_min_position) if p is not None]
        if not asked:
            return None
        wanted = max(asked)
        runtime = get_runtime(request)
        head = await runtime.store.head_position()
        if wanted > head:  # never committed: a bad value, not a read model that is behind
            raise Unprocessable(f"position {wanted} was never committed (the store is at {head})",
                                field="min_position")
        within = runtime.settings.read_your_writes_wait
        reached = await runtime.watermarks.wait_for(projection, wanted, within)
        if reached < wanted:
            raise ReadModelBehind(
                f"the read model {projection} is at position {reached}, not yet at {wanted}; "
                f"retry shortly", field="min_position", min_position=wanted, position=reached)
        return reached

    return Depends(wait)
