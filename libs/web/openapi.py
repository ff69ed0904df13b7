"""The OpenAPI document as the API really behaves: errors, statuses and security schemes.

FastAPI documents a 422 `HTTPValidationError` in `application/json` (the API answers an
RFC 9457 problem in `application/problem+json`) and nothing else that can go wrong. Here
the generated document is post-processed from each route's metadata and dependencies, so a
route added later is described by the same rules without anyone writing `responses=`:

- every error response is the one `Problem` schema, as `application/problem+json`;
- 422 where the route takes parameters or a body (or raises `Unprocessable`); 401 and 403
  where it needs an API key (a dependency that authenticates: the `bearerAuth` scheme);
  401 where it needs the complaint platform's signature (the `platformSignature` schemes);
  404 where it has path parameters (it reads one object), needs a key (tenant scoping: another
  tenant's maker or object named in the query or body is not found) or raises `NotFound`; 409 for a
  command (POST, PUT, PATCH, DELETE: it appends); 413 where it takes a body; 503 wherever it
  reaches the database;
- statuses a route declares itself in `responses=` are kept, with the Problem schema.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from libs.web import deps
from libs.web.problems import MEDIA_TYPE, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; every error the API answers is one.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "description": "What kind of problem"},
        "title": {"type": "string", "description": "A short summary of the kind"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong with this request"},
        "instance": {"type": "string", "description": "The path the request was for"},
        "correlation_id": {"type": "string", "format": "uuid", "description": "Quote it to the operator"},
        "errors": {
            "type": "array", "description": "422: one entry per invalid field",
            "items": {
                "type": "object", "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                               "type": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,  # extension members, e.g. expected_version on a 409
}
# The complaint platform signs each request with three headers (services/intake/api/platform.py).
PLATFORM_HEADERS = ("X-Signature", "X-Timestamp", "X-Nonce")
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer <key>`"},
    "platformSignature": {
        "type": "apiKey", "in": "header", "name": "X-Signature",
        "description": "sha256=HMAC-SHA256(platform secret, `{X-Timestamp}.{X-Nonce}.` + body), hex",
    },
    "platformTimestamp": {"type": "apiKey", "in": "header", "name": "X-Timestamp",
                          "description": "Unix seconds, within 5 minutes of the server's clock"},
    "platformNonce": {"type": "apiKey", "in": "header", "name": "X-Nonce",
                      "description": "8-200 printable ASCII characters, never reused"},
}
PLATFORM_SECURITY: dict[str, list[str]] = {"platformSignature": [], "platformTimestamp": [], "platformNonce": []}
TITLES = {
    400: "Bad request", 401: "Unauthorized: no or an unknown API key (or signature)",
    403: "Forbidden: this role may not do this", 404: "Not found", 409: "Conflict",
    413: "Payload too large", 422: "Invalid request: the problem names each field",
    429: "Too many requests", 503: "Service unavailable: retry after Retry-After seconds",
}
COMMANDS = {"POST", "PUT", "PATCH", "DELETE"}
_AUTHENTICATORS = (deps.authenticate, deps.current_principal)
_RUNTIME = (deps.get_runtime, deps._runtime)


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) serve the described document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            app.openapi_schema = describe(schema, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Rewrite `schema` (FastAPI's document of `routes`) in place; returns it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for context in routing.iter_route_contexts(routes):  # what FastAPI documents, routers flattened
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            route = cast(APIRoute, context)  # an APIRoute with the including routers' prefixes and deps
            for method in route.methods or ():
                operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    _describe_operation(operation, route, method)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return schema


def statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses `route` can answer to `method`."""
    found = {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    dependant = route.dependant
    raised = _raised(dependant)
    if _has_params(dependant) or Unprocessable in raised:
        found.add(422)
    if needs_key(dependant):  # 404 too: another tenant's maker, provider or object is not found
        found |= {401, 403, 404}
    if needs_platform_signature(dependant) or Unauthorized in raised:
        found.add(401)
    if Forbidden in raised:
        found.add(403)
    if dependant.path_params or NotFound in raised:
        found.add(404)
    if method in COMMANDS or Conflict in raised:
        found.add(409)
    if dependant.body_params:
        found.add(413)
    if _reaches_database(dependant):
        found.add(503)
    return found


def needs_key(dependant: Dependant) -> bool:
    """Whether a dependency authenticates a Bearer key: `current_principal` itself, or a
    function that calls `authenticate` (a hot route's own one-level dependency)."""
    return any(d.call in _AUTHENTICATORS or _refers_to(d.call, _AUTHENTICATORS) for d in _walk(dependant))


def needs_platform_signature(dependant: Dependant) -> bool:
    wanted = {h.lower() for h in PLATFORM_HEADERS}
    return any(wanted <= {_header_name(p) for p in d.header_params} for d in _walk(dependant))


def _describe_operation(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = statuses(route, method)
    if "422" in responses and 422 not in codes:
        del responses["422"]  # FastAPI's guess, for a route whose only input is a hidden header
    for code in sorted(codes | {int(s) for s in responses if s.isdigit() and int(s) >= 400}):
        entry = responses.setdefault(str(code), {})
        if entry.get("description") in (None, "", "Validation Error", "Additional Response"):
            entry["description"] = TITLES.get(code, "Error")
        entry["content"] = {MEDIA_TYPE: {"schema": PROBLEM_REF}}
    security: list[dict[str, list[str]]] = []
    if needs_key(route.dependant):
        security.append({"bearerAuth": []})
    if needs_platform_signature(route.dependant):
        security.append(PLATFORM_SECURITY)
        covered = {h.lower() for h in PLATFORM_HEADERS}
        operation["parameters"] = [p for p in operation.get("parameters", [])
                                   if not (p.get("in") == "header" and p["name"].lower() in covered)]
        if not operation["parameters"]:
            del operation["parameters"]
    if security:
        operation["security"] = security


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _has_params(dependant: Dependant) -> bool:
    """Whether the route has documented inputs that can fail validation (a hidden header such
    as Authorization is a str that always validates)."""
    return any(getattr(p.field_info, "include_in_schema", True)
               for d in _walk(dependant)
               for p in (*d.path_params, *d.query_params, *d.header_params, *d.cookie_params, *d.body_params))


def _reaches_database(dependant: Dependant) -> bool:
    """A dependency on the runtime or store, an authenticated caller, or the raw Request."""
    return needs_key(dependant) or any(
        d.call in _RUNTIME or _refers_to(d.call, _RUNTIME) or d.request_param_name for d in _walk(dependant))


def _raised(dependant: Dependant) -> set[type]:
    """The Problem classes the endpoint and its dependencies name (and so may raise)."""
    found: set[type] = set()
    for d in _walk(dependant):
        for value in _names(d.call):
            if isinstance(value, type) and value in (Unprocessable, Unauthorized, Forbidden, NotFound, Conflict):
                found.add(value)
    return found


def _refers_to(call: Callable[..., Any] | None, targets: Sequence[Any]) -> bool:
    return any(any(value is t for t in targets) for value in _names(call))


def _names(call: Callable[..., Any] | None) -> list[Any]:
    """The globals and closure variables a function's code refers to."""
    if call is None or not (inspect.isfunction(call) or inspect.ismethod(call)):
        return []
    try:
        found = inspect.getclosurevars(call)
    except (TypeError, ValueError):
        return []
    return [*found.globals.values(), *found.nonlocals.values()]


def _header_name(param: Any) -> str:
    alias = getattr(param, "alias", None) or param.name
    return str(alias).lower().replace("_", "-")
