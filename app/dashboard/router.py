"""Routes of the ops dashboard: `/`, an order page and the committed static files.

The page holds no data of its own: its JavaScript calls the services' JSON query
endpoints (projections only) on the same origin, so what it shows is what the API says.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from libs.web.auth import DEMO_PRINCIPALS, READ_ONLY
from libs.web.deps import get_runtime
from libs.web.problems import NotFound

HERE = Path(__file__).parent
STATIC = HERE / "static"
# The one key the embedded demo page pre-fills: the demo viewer's, a read-only role (reads
# its maker's data, passes no write). Never a key that writes: the page is public.
DEMO_VIEWER_KEY = next(key for key, _id, role, *_ in DEMO_PRINCIPALS if role == "viewer")
if next(role for key, _id, role, *_ in DEMO_PRINCIPALS if key == DEMO_VIEWER_KEY) not in READ_ONLY:
    raise RuntimeError("the dashboard may pre-fill only a read-only key")

templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
router = APIRouter(include_in_schema=False)

_MEDIA = {".js": "text/javascript", ".css": "text/css", ".md": "text/plain"}


def _page(request: Request, name: str, **context: object) -> HTMLResponse:
    """Render a template; the embedded demo pre-fills the demo viewer key."""
    demo = get_runtime(request).settings.demo
    html = templates.get_template(name).render(demo_key=DEMO_VIEWER_KEY if demo else "", **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    """The ops dashboard: dispatch, settlement and quality panels with their freshness."""
    return _page(request, "index.html")


@router.get("/ui/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: str) -> HTMLResponse:
    """One order: its state and the timeline of its events (who did what when)."""
    return _page(request, "order.html", order_id=order_id)


@router.get("/ui/static/{path:path}")
async def static(path: str) -> FileResponse:
    """Serve a committed static file (vendored front-end libraries included); nothing else."""
    target = (STATIC / path).resolve()
    if not target.is_file() or STATIC.resolve() not in target.parents:
        raise NotFound(f"no static file {path!r}")
    media = _MEDIA.get(target.suffix, "application/octet-stream")
    return FileResponse(target, media_type=media, headers={"Cache-Control": "public, max-age=300"})
