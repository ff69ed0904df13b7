"""One pure-ASGI middleware: body-size limit, correlation id, request metrics and access log."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.web import metrics
from libs.web.context import correlation

log = logging.getLogger("access")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cid = _parse_uuid(headers.get(b"x-correlation-id", b"").decode()) or uuid.uuid4()
        token = correlation.set(cid)
        started = time.perf_counter()
        status = 500
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _too_large(send, self.max_body)
            correlation.reset(token)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", str(cid).encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            status = 413
            await _too_large(send, self.max_body)
        finally:
            route = _route(scope)
            elapsed = time.perf_counter() - started
            count, latency = _series(scope["method"], route, status)
            count.inc()
            latency.observe(elapsed)
            if route not in ("/metrics", "/healthz", "/readyz") and log.isEnabledFor(logging.INFO):
                log.info("%s %s %s", scope["method"], scope["path"], status,
                         extra={"status": status, "path": scope["path"], "method": scope["method"],
                                "duration_ms": round(elapsed * 1000, 2)})
            correlation.reset(token)


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


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({
        "type": "https://aftersales.example/problems/payload-too-large", "title": "Payload too large",
        "status": 413, "detail": f"the body exceeds {limit} bytes",
    }).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
