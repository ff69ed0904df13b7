"""FastAPI dependencies as Annotated aliases, so routes read like their signatures."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from libs.events.clock import Clock
from libs.events.store import SqlEventStore
from libs.web.auth import Principal, find_principal, hash_key
from libs.web.context import note_actor
from libs.web.problems import Forbidden, Unauthorized
from libs.web.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_store(request: Request) -> SqlEventStore:
    return get_runtime(request).store


def get_clock(request: Request) -> Clock:
    return get_runtime(request).clock


# FastAPI runs a plain `def` dependency in a worker thread: the aliases use async twins so a
# request does not pay a thread hop for each of them.
async def _runtime(request: Request) -> Runtime:
    return get_runtime(request)


async def _store(request: Request) -> SqlEventStore:
    return get_store(request)


async def _clock(request: Request) -> Clock:
    return get_clock(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
StoreDep = Annotated[SqlEventStore, Depends(_store)]
ClockDep = Annotated[Clock, Depends(_clock)]


KEY_TTL = 30.0  # seconds a found API key is trusted without asking the database again


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """The caller, from its Bearer key (see `authenticate`)."""
    return await authenticate(request, authorization)


async def authenticate(request: Request, authorization: str | None) -> Principal:
    """The caller of a request with this Authorization header, with a short per-process cache.

    Every command would otherwise spend a pool checkout and a query on a row that never
    changes (keys are only added; a re-key adds a row). The price: a key deleted from
    `principals` keeps working for at most KEY_TTL seconds in a running process.

    A plain function as well as the `current_principal` dependency: a hot route's own
    dependency calls it with `request.headers` directly, since every parameter and every
    level of nested dependency costs FastAPI's resolver tens of microseconds a request.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    runtime = get_runtime(request)
    key = authorization[7:].strip()
    cache: dict[str, tuple[Principal, float]] = runtime.state.setdefault("principals", {})
    digest, now = hash_key(key), time.monotonic()
    hit = cache.get(digest)
    if hit is not None and hit[1] > now:
        note_actor(hit[0].actor)
        return hit[0]
    principal = await find_principal(runtime.engine, key)
    if principal is None:
        raise Unauthorized("unknown API key")
    if len(cache) > 10_000:
        cache.clear()
    cache[digest] = (principal, now + KEY_TTL)
    note_actor(principal.actor)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only the given roles (operator is always admitted)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles and principal.role != "operator":
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of {', '.join(roles)}")
        return principal

    return check
