"""RFC 9457 problem details: every error leaves the API as application/problem+json.

Services raise `Problem` (or a subclass) at the edge; store errors map here too, so a
database outage is a 503 with Retry-After, a version conflict a 409, never a 500.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.events.errors import ConcurrencyConflict, DomainError, EventStoreError, StoreUnavailable
from libs.web import metrics
from libs.web.context import correlation, incoming_correlation

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error the client can act on."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, status: int | None = None, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(Problem):
    status, title = 404, "Not found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable request"


TITLES = {403: "Forbidden", 404: "Not found", 409: "Conflict", 422: "Unprocessable request"}


def invalid_fields(errors: list[dict[str, Any]]) -> str:
    return "invalid field(s): " + ", ".join(sorted({str(e["field"]) for e in errors}))


def _one_422_shape(detail: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Every 422 carries `errors: [{field, message, type}]` (README, API section), whatever raised it."""
    extra = dict(extra)
    field = extra.pop("field", None)
    if "errors" not in extra:
        extra["errors"] = [{"field": field or "body", "message": detail, "type": "value_error"}]
    extra["errors"] = [{"type": "value_error", **e} for e in extra["errors"]]
    return extra


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


def problem_response(status: int, title: str, detail: str, request: Request | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://aftersales.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(_one_422_shape(detail, extra) if status == 422 else extra)
    headers = {"Retry-After": "1"} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def internal_error(cid: uuid.UUID, path: str | None = None) -> JSONResponse:
    """The answer to an error nobody expected: a problem document naming the correlation id
    (what the caller quotes to the operator, who finds the logged traceback by it), no internals."""
    detail = f"an unexpected error occurred; quote correlation id {cid} when reporting it"
    where = {"instance": path} if path is not None else {}
    response = problem_response(500, "Internal server error", detail, None, **where, correlation_id=str(cid))
    response.headers["x-correlation-id"] = str(cid)
    return response


def log_unexpected(cid: uuid.UUID, method: str, path: str) -> None:
    """Log the traceback of the exception being handled, with the request's correlation id."""
    log.error("unhandled error in %s %s", method, path, exc_info=True,
              extra={"correlation_id": str(cid), "method": method, "path": path})


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "body")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"])), "message": e["msg"], "type": e["type"]} for e in exc.errors()]
        return problem_response(422, "Invalid request", invalid_fields(errors), request, errors=errors)

    @app.exception_handler(ValidationError)
    async def _out_of_bounds(request: Request, exc: ValidationError) -> JSONResponse:
        """An event the command built from an accepted request is out of the catalog's bounds
        (libs/events/bounds.py), e.g. a settlement total over 10^12 fen: refuse it, never store it."""
        errors = [{"field": _field(tuple(e["loc"])), "message": e["msg"], "type": e["type"]} for e in exc.errors()]
        return problem_response(422, "Invalid request", invalid_fields(errors), request, errors=errors)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        extra = {"field": exc.field, **exc.extra} if exc.field else exc.extra
        return problem_response(exc.status, TITLES.get(exc.status, "Error"), exc.detail, request, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}.get(exc.status_code, "Error")
        response = problem_response(exc.status_code, title, str(exc.detail), request)
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(request: Request, exc: ConcurrencyConflict) -> JSONResponse:
        metrics.conflicts.inc()
        return problem_response(
            409, "Conflict", f"the order changed meanwhile ({exc}); re-read it and retry", request,
            expected_version=exc.expected, actual_version=exc.actual,
        )

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return problem_response(503, "Service unavailable", "the database is unavailable; retry shortly", request)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return problem_response(503, "Service unavailable", "the database is unavailable; retry shortly", request)

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return problem_response(503, "Service unavailable", "the database could not complete the request", request)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        log.warning("connection error: %s", exc)
        return problem_response(503, "Service unavailable", "a backing service is unreachable; retry shortly", request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The last resort (Starlette's ServerErrorMiddleware, outside every middleware):
        # EdgeMiddleware answers for everything inside it; this catches a middleware added
        # in front of it.
        cid = correlation.get() or incoming_correlation(request.scope["headers"]) or uuid.uuid4()
        log_unexpected(cid, request.method, request.url.path)
        return internal_error(cid, request.url.path)

    @app.exception_handler(EventStoreError)
    async def _store(request: Request, exc: EventStoreError) -> JSONResponse:
        return problem_response(422, "Event refused", str(exc), request)
