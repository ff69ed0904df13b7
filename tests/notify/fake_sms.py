"""A fake SMS provider: a bare ASGI app (no framework) speaking the provider-neutral JSON API
of services/notify/channels/sms.py, and a helper that serves it with uvicorn on a free port.

Answers come from a script (status, JSON body, headers) consumed one per request; when the
script runs out every request is accepted. Each request is recorded as the provider saw it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"status": "accepted"})
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeSmsProvider:
    def __init__(self, token: str, script: list[Answer] | None = None) -> None:
        self.token = token
        self.script = list(script or [])
        self.received: list[Received] = []
        self._ids = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            chunk = await receive()
            raw += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(scope["path"], headers, json.loads(raw or b"{}")))
        answer = self._answer(headers)
        payload = json.dumps(answer.body).encode()
        head = [(b"content-type", b"application/json")]
        head += [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": head})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, headers: dict[str, str]) -> Answer:
        if headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"error": "bad token"})
        if self.script:
            return self.script.pop(0)
        self._ids += 1
        return Answer(200, {"status": "accepted", "id": f"sms-{self._ids}"})


@asynccontextmanager
async def serving(app: FakeSmsProvider) -> AsyncIterator[str]:
    """Serve the fake on a free loopback port (a real socket); yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
