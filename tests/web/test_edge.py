"""The edge of every app: a catch-all for unexpected errors, body limits, 405s and correlation ids."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Body
from fastapi.responses import StreamingResponse

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.context import correlation_id
from libs.web.runtime import ServiceSpec

boom = APIRouter()


@boom.get("/boom")
async def explode() -> None:
    raise RuntimeError("a bug")


@boom.get("/boom/stream")
async def explode_while_streaming() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        raise RuntimeError("a bug before the first chunk")
        yield b""  # pragma: no cover

    return StreamingResponse(chunks())


@boom.post("/echo")
async def echo(body: dict[str, Any] = Body()) -> dict[str, Any]:
    return {"size": len(json.dumps(body)), "correlation_id": str(correlation_id())}


class Exploding:
    """A middleware with a bug: errors raised outside any route must be problems too."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/middleware-boom":
            raise ValueError("middleware bug")
        await self.app(scope, receive, send)


async def bare(scope: Any, receive: Any, send: Any) -> None:
    """A raw ASGI app with a bug: it starts a response and never sends its body."""
    await send({"type": "http.response.start", "status": 204, "headers": []})


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'edge.db'}", max_body_bytes=1024)
    app = build_app(settings, [ServiceSpec(name="boom", router=boom)])
    app.add_middleware(Exploding)
    app.mount("/bare", bare)
    # Starlette's ServerErrorMiddleware re-raises after answering (so the server logs it too);
    # what matters here is what the client got.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize("path", ["/boom", "/boom/stream", "/middleware-boom"])
async def test_an_unexpected_error_is_a_problem_with_the_correlation_id(
    client: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture,
) -> None:
    cid = uuid.uuid4()
    with caplog.at_level(logging.ERROR):
        response = await client.get(path, headers={"X-Correlation-ID": str(cid)})
    body = _is_problem(response, 500)
    assert body["correlation_id"] == str(cid)
    assert response.headers["x-correlation-id"] == str(cid)
    assert "bug" not in response.text  # no internals leak to the client
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged and all(getattr(r, "correlation_id", None) == str(cid) for r in logged)


async def _chunks(size: int, piece: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield b" " * min(piece, size - sent)
        sent += piece


async def test_an_oversized_body_is_413_with_or_without_a_length(client: httpx.AsyncClient) -> None:
    declared = await client.post("/echo", content=b"{}" + b" " * 2000, headers={"Content-Type": "application/json"})
    _is_problem(declared, 413)
    chunked = await client.post("/echo", content=_chunks(10 * 1024 * 1024),
                                headers={"Content-Type": "application/json"})
    assert "content-length" not in chunked.request.headers
    _is_problem(chunked, 413)
    fits = await client.post("/echo", json={"a": "b"})
    assert fits.status_code == 200


async def test_405_names_the_allowed_methods(client: httpx.AsyncClient) -> None:
    response = await client.delete("/echo")
    _is_problem(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(("header", "value", "expected"), [
    ("X-Correlation-ID", "2b0f5a4e-4b1e-4a55-9d0c-2f1a3c5b7d90", "2b0f5a4e-4b1e-4a55-9d0c-2f1a3c5b7d90"),
    ("X-Request-ID", "2b0f5a4e4b1e4a559d0c2f1a3c5b7d90", "2b0f5a4e-4b1e-4a55-9d0c-2f1a3c5b7d90"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
     "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
])
async def test_the_correlation_id_is_taken_from_the_caller(
    client: httpx.AsyncClient, header: str, value: str, expected: str,
) -> None:
    response = await client.post("/echo", json={}, headers={header: value})
    assert response.json()["correlation_id"] == expected
    assert response.headers.get_list("x-correlation-id") == [expected]


async def test_a_malformed_incoming_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={}, headers={
        "traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "X-Request-ID": "nope"})
    cid = response.json()["correlation_id"]
    assert uuid.UUID(cid).int != 0 and response.headers.get_list("x-correlation-id") == [cid]


async def test_a_response_ended_without_a_body_is_a_problem_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/bare/x")
    body = _is_problem(response, 500)  # not the server's text/plain 500
    assert body["correlation_id"] == response.headers["x-correlation-id"]
