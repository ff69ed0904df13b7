"""FastAPI dependencies as Annotated aliases, so routes read like their signatures."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from libs.events.clock import Clock
from libs.events.store import SqlEventStore
from libs.web.auth import Principal, find_principal
from libs.web.problems import Forbidden, Unauthorized
from libs.web.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_store(request: Request) -> SqlEventStore:
    return get_runtime(request).store


def get_clock(request: Request) -> Clock:
    return get_runtime(request).clock


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StoreDep = Annotated[SqlEventStore, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    principal = await find_principal(get_runtime(request).engine, authorization[7:].strip())
    if principal is None:
        raise Unauthorized("unknown API key")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only the given roles (operator is always admitted)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles and principal.role != "operator":
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of {', '.join(roles)}")
        return principal

    return check
