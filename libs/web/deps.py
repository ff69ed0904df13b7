"""FastAPI dependencies as Annotated aliases, so routes read like their signatures."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from libs.web import auth
from libs.web.auth import Principal, find_principal, hash_key
from libs.web.context import note_actor
from libs.web.problems import Forbidden, Unauthorized
from libs.web.ratelimit import KeyLimiter
from libs.web.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# FastAPI runs a plain `def` dependency in a worker thread: the aliases use async twins so a
# request does not pay a thread hop for each of them.
async def _runtime(request: Request) -> Runtime:
    return get_runtime(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


KEY_TTL = 30.0  # seconds a found API key is trusted without asking the database again


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """The caller, from its Bearer key (see `authenticate`)."""
    return await authenticate(request, authorization)


async def authenticate(request: Request, authorization: str | None) -> Principal:
    """The caller of a request with this Authorization header, with a short per-process cache.

    Every command would otherwise spend a pool checkout and a query on a row that never
    changes (keys are only added; a re-key adds a row). A key change in any process drops
    every process's cache within `key_watch_interval` (Runtime._watch_keys); KEY_TTL bounds
    what a process that cannot reach the database would trust.

    A plain function as well as the `current_principal` dependency: a hot route's own
    dependency calls it with `request.headers` directly, since every parameter and every
    level of nested dependency costs FastAPI's resolver tens of microseconds a request.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    runtime = get_runtime(request)
    key = authorization[7:].strip()
    cache: dict[str, tuple[Principal, float]] = runtime.state.setdefault(auth.KEY_CACHE, {})
    digest, now = hash_key(key), time.monotonic()
    hit = cache.get(digest)
    if hit is not None and hit[1] > now:
        principal = hit[0]
    else:
        found = await find_principal(runtime.engine, key)
        if found is None:
            raise Unauthorized("unknown API key")
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (found, now + KEY_TTL)
        principal = found
    note_actor(principal.actor)
    # Kernel rules every route gets, whatever its own dependency checks: a read-only key never
    # passes a write (intake's routes check roles themselves), and every key has its rate.
    if principal.read_only and request.method not in SAFE_METHODS:
        raise Forbidden(f"role {principal.role!r} is read only")
    limiter = runtime.state.get("rate_limiter")
    if not isinstance(limiter, KeyLimiter):
        limiter = runtime.state["rate_limiter"] = KeyLimiter(runtime.settings.rate_limit)
    limiter.check(principal, request.scope)
    return principal


def forget_keys(runtime: Runtime) -> None:
    """Drop this process's key cache at once (after a key change here; other processes watch)."""
    runtime.state.pop(auth.KEY_CACHE, None)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class RoleCheck:
    """The dependency `require` returns: callable by FastAPI, with its rule readable back
    (`roles`), so a test can derive the authorization matrix from the route table."""

    def __init__(self, roles: tuple[str, ...], readers: bool = True) -> None:
        self.roles = roles
        self.readers = readers  # False: the read-only roles do not pass its reads either
        self.__name__ = f"require_{'_'.join(roles) or 'nobody'}"

    async def __call__(self, principal: CurrentPrincipal, request: Request) -> Principal:
        if principal.role in self.roles:
            return principal
        if self.readers and principal.read_only and request.method in SAFE_METHODS:
            return principal  # viewer / operator: every read (their scope is the service's filter)
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of {', '.join(self.roles)}")


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only the given roles; read-only roles (viewer, operator) pass
    its reads and never its writes; no role passes every rule."""
    return RoleCheck(roles)
