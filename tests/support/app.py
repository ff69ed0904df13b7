"""An in-process app (all four services) with a manual clock, for HTTP tests on either backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from app.main import create_app
from libs.events.clock import ManualClock
from libs.events.settings import Settings
from libs.web.runtime import Runtime

START = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)  # 09:00 in Beijing on a Monday

KEYS = {
    "partner": "demo-partner-key",
    "partner2": "demo-partner2-key",
    "dispatcher": "demo-dispatcher-key",
    "technician": "demo-technician-key",
    "finance": "demo-finance-key",
    "supervisor": "demo-supervisor-key",
    "provider": "demo-provider-key",
    "operator": "demo-operator-key",
}


def auth(who: str) -> dict[str, str]:
    """Authorization header of a demo principal (see libs/web/auth.py DEMO_PRINCIPALS)."""
    return {"Authorization": f"Bearer {KEYS[who]}"}


@dataclass
class Api:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: ManualClock
    transport: httpx.ASGITransport

    async def sync(self) -> None:
        """Let every projection catch up with the store (instead of sleeping)."""
        await self.runtime.sync()


@asynccontextmanager
async def running_api(database_url: str, **settings: object) -> AsyncIterator[Api]:
    clock = ManualClock(START)
    given: dict[str, object] = {"demo": True, "sla_watch_interval": 3600, **settings}
    app = create_app(Settings(database_url=database_url, **given), clock)  # type: ignore[arg-type]
    runtime: Runtime = app.state.runtime
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, runtime, clock, transport)
    finally:
        await runtime.stop()
