"""One pure-ASGI middleware: the catch-all for unexpected errors, the body-size limit,
the correlation id, request metrics and the access log.

Pure ASGI, not asgi-correlation-id's middleware: that library reads one header name and
keeps a string, while the id here must come from `X-Correlation-ID`, a W3C `traceparent`
or `X-Request-ID` and be a UUID (it goes into every event's `correlation_id`), and a second
middleware layer would cost every request its own call frame and header scan.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.web import metrics
from libs.web.context import RequestFacts, correlation, incoming_correlation, request_facts
from libs.web.problems import internal_error, log_unexpected, problem_response

log = logging.getLogger("access")
CID = b"x-correlation-id"


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = incoming_correlation(scope["headers"]) or uuid.uuid4()
        cid_header = (CID, str(cid).encode())
        facts = RequestFacts()
        token, facts_token = correlation.set(cid), request_facts.set(facts)
        started = time.perf_counter()
        status = 500
        received = 0
        too_large = False  # the body went over the limit: whatever the app answers, it is a 413
        held: Message | None = None  # response.start, sent with the first body message
        sent = False  # anything went to the client

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            # The start is held back until the body begins, so an error raised before the
            # first chunk (a streaming body's generator) can still be answered as a problem.
            nonlocal status, held, sent
            if too_large:
                return  # the app's answer to a body it could not read (FastAPI says 400)
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != CID]
                held = {**message, "headers": [*headers, cid_header]}
                return
            if held is not None:
                await send(held)
                held, sent = None, True
            await send(message)

        async def answer(response: Any) -> None:
            nonlocal status, sent
            status, sent = response.status_code, True
            await response(scope, receive, send)

        try:
            length = _content_length(scope)
            if length is not None and length > self.max_body:
                too_large = True
            else:
                await self.app(scope, limited_receive, send_with_id)
            if held is not None and not too_large:
                raise RuntimeError("the app ended its response without a body message")
            if too_large and not sent:
                await answer(_too_large(self.max_body, cid_header))
        except Exception as exc:
            if too_large and isinstance(exc, _BodyTooLarge) and not sent:
                await answer(_too_large(self.max_body, cid_header))
            else:
                log_unexpected(cid, scope["method"], scope["path"])
                if sent:
                    raise  # mid-body: only aborting the connection tells the client it is cut short
                await answer(internal_error(cid, scope["path"]))
        finally:
            route = _route(scope)
            elapsed = time.perf_counter() - started
            count, latency = _series(scope["method"], route, status)
            count.inc()
            latency.observe(elapsed)
            if route not in ("/metrics", "/healthz", "/readyz") and log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info("%s %s %s", scope["method"], scope["path"], status,
                         extra={"status": status, "path": scope["path"], "method": scope["method"],
                                "duration_ms": round(elapsed * 1000, 2), "actor": facts.actor,
                                "correlation_id": cid_header[1].decode(),
                                "client": _client(client, scope["headers"])})
            correlation.reset(token)
            request_facts.reset(facts_token)


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of (method, route, status), looked up once:
    `labels()` formats and locks on every call. Routes are templates, so the set is small."""
    found = _SERIES.get((method, route, status))
    if found is None:
        found = (metrics.http_requests.labels(method, route, str(status)), metrics.http_latency.labels(method, route))
        if len(_SERIES) < 10_000:  # methods are the client's to choose
            _SERIES[(method, route, status)] = found
    return found


class _BodyTooLarge(Exception):
    pass


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _client(client: Any, headers: list[tuple[bytes, bytes]]) -> str | None:
    """The caller's address; behind the gateway, the address the gateway saw (X-Forwarded-For)."""
    forwarded = next((v for n, v in headers if n == b"x-forwarded-for"), None)
    own = f"{client[0]}" if client else None
    if forwarded is None:
        return own
    return f"{forwarded.decode('latin-1')[:200]} via {own}"


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def _too_large(limit: int, cid_header: tuple[bytes, bytes]) -> Any:
    response = problem_response(413, "Payload too large", f"the body exceeds {limit} bytes")
    response.raw_headers.append(cid_header)
    return response
