"""A real server on demo data and a headless Chromium: the fixtures of the dashboard's browser tests.

The demo fills a fresh SQLite file through the API (small seed, one month), then uvicorn
serves the whole system on a free loopback port in a thread; the browser is Debian's
chromium driven by Playwright (never a downloaded browser). With CI=true nothing skips.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from app.demo.__main__ import fill
from app.demo.simulate import Stats
from app.main import create_app
from libs.events.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
VIEWER = {"Authorization": "Bearer demo-viewer-key"}  # what the page pre-fills: it sees what the viewer sees
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class Site:
    url: str
    api: httpx.Client
    demo: Stats


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _fill(settings: Settings) -> Stats:
    """The demo on a loop of its own, left open afterwards: closing it (asyncio.run) has hung
    in Runner.close under pytest after the demo had finished (cause not found yet)."""
    loop = asyncio.new_event_loop()
    return loop.run_until_complete(fill(settings, 3, 21, datetime.now(UTC), 2.5))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo (seed 3, three weeks up to now) served by uvicorn on a free port."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    settings = Settings(database_url=url, demo=True, sla_watch_interval=3600, log_level="WARNING")
    with ThreadPoolExecutor(1) as pool:
        stats = pool.submit(_fill, settings).result(timeout=300)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    with httpx.Client(base_url=base, headers=VIEWER, timeout=10) as api:
        _caught_up(api)
        yield Site(base, api, stats)
    server.should_exit = True
    thread.join(10)


def _caught_up(api: httpx.Client, timeout: float = 120) -> None:
    """Wait until every projection has applied the demo's events: the server's projectors
    start at its start-up, and on a loaded machine a panel read before they caught up
    shows a month without visits."""
    deadline = time.monotonic() + timeout
    while True:
        projections = api.get("/ops/projections").json()["projections"]
        if all(p["lag_events"] == 0 for p in projections.values()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"projections still behind after {timeout} s: {projections}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        message = f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message + " (CI=true: browser tests may not skip)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """One headless Chromium for the session (Playwright's async API; the browser is Debian's)."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page in its own context (no localStorage carried over between tests)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")
    yield await context.new_page()
    await context.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
