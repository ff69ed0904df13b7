"""A route with a hand-written fast path for its common request.

FastAPI's per-request machinery (reading the body through `json.loads`, validating it
through a TypeAdapter, resolving each dependency and parameter, parsing the Content-Type
with `email.message`) costs a few hundred microseconds a request. A route that is the
hot path of an API can have a fast path: a coroutine that handles the well-formed,
common request directly and returns its Response, or returns None to decline. Anything
declined (a body that does not validate, an unusual header, dependency overrides in
tests) goes to FastAPI's standard handler, so every error answer and the OpenAPI
document are exactly FastAPI's; the fast path only has to agree with the route on what
it accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

FastPath = Callable[[Request], Awaitable[Response | None]]
JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"})


def with_fast_path(fast: FastPath) -> type[APIRoute]:
    """An APIRoute class (for `route_class_override`) that tries `fast` first."""

    class FastPathRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            standard = super().get_route_handler()

            async def handler(request: Request) -> Response:
                if not request.app.dependency_overrides:
                    response = await fast(request)
                    if response is not None:
                        return response
                return await standard(request)  # the body, if read, is cached on the request

            return handler

    return FastPathRoute
