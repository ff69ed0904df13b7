"""Response headers every page and API answer carries, the offline API docs, and the demo-key purge.

The dashboard loads only its own files, so its policy is `default-src 'self'`; Swagger UI and
ReDoc start from one inline script each, so `/docs` and `/redoc` add `'unsafe-inline'` for
scripts (still nothing from another origin: their assets come from the pinned
fastapi-offline wheel, not a CDN). No page may be framed (clickjacking).
"""

from __future__ import annotations

import logging
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.web import auth
from libs.web.ratelimit import RETRY_AFTER
from libs.web.runtime import Runtime

log = logging.getLogger(__name__)

POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_POLICY = POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'") + "; worker-src 'self' blob:"  # ReDoc's search
DOCS_PATHS = ("/docs", "/redoc")
DOCS_ASSETS = "/docs-assets"
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the headers to every HTTP response (pure ASGI: no per-request task, no body copy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = (DOCS_POLICY if path in DOCS_PATHS else POLICY).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in COMMON if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", policy))
                retry = scope.get(RETRY_AFTER)
                if message["status"] == 429 and retry and b"retry-after" not in present:
                    headers.append((b"retry-after", str(retry).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from local files (build the app with docs_url=None)."""
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=static), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js", with_google_fonts=False,
                              redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png")


async def drop_demo_keys(runtime: Runtime) -> None:
    """Without DEMO, no demo key survives a start (a database once run with DEMO=true keeps none)."""
    if runtime.settings.demo:
        return
    async with runtime.engine.begin() as conn:
        gone = await auth.remove_demo_principals(conn)
    if gone:
        log.warning("removed %d demo API keys (DEMO is off)", gone)
