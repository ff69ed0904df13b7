"""The gateway of the distributed mode: one origin for partners and the ops dashboard.

Each service runs as its own process there; the gateway serves the dashboard at `/` and
forwards every API path to the process that owns it (UPSTREAMS), so the page and the
partners see one API exactly as in the embedded mode. It holds no state and reads no
table; `/ops/projections` merges what every upstream reports about its read models.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from app.dashboard import router as dashboard_router
from libs.events.clock import Clock, system_clock
from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep, require
from libs.web.problems import NotFound, Problem

ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/orders/[^/]+/reviews/?$"), "quality"),
    (re.compile(r"^/(orders|platform)(/|$)"), "intake"),
    (re.compile(r"^/dispatch(/|$)"), "dispatch"),
    (re.compile(r"^/settlements?(/|$)"), "settlement"),
    (re.compile(r"^/quality(/|$)"), "quality"),
    (re.compile(r"^/parts(/|$)"), "parts"),
    (re.compile(r"^/(s|ops/notifications|ops/status-links)(/|$)"), "notify"),
]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length",
              "proxy-authorization", "proxy-authenticate", "trailer"}

FORWARDED = {"x-correlation-id", "x-forwarded-for"}  # set anew below

router = APIRouter(include_in_schema=False)
merged = APIRouter(include_in_schema=False)


class UpstreamUnavailable(Problem):
    status, title = 503, "Service unavailable"


def owner(path: str) -> str | None:
    """The service that owns an API path (None: not an API path)."""
    return next((service for pattern, service in ROUTES if pattern.match(path)), None)


def _client(runtime: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = runtime.state.get("gateway_client")
    if client is None:
        transport = runtime.state.get("gateway_transport")  # tests hand in an in-process transport
        client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30.0, connect=2.0))
        runtime.state["gateway_client"] = client
    return client


@merged.get("/metrics")
async def no_metrics() -> None:
    """Not on the public port: Prometheus scrapes each process on the cluster network."""
    raise NotFound("no /metrics on the public port; scrape the processes directly")


@merged.get("/ops/projections", dependencies=[Depends(require("operator", "viewer", "admin"))])
async def merged_projections(runtime: RuntimeDep) -> dict[str, Any]:
    """Every upstream's projection freshness, merged (what the dashboard shows in distributed
    mode); on the public port only with a key (the page sends its own)."""
    client = _client(runtime)

    async def one(name: str, url: str) -> tuple[str, Any]:
        try:
            return name, (await client.get(f"{url}/ops/projections")).json()
        except (httpx.HTTPError, ValueError) as exc:
            return name, {"error": f"{type(exc).__name__}: {exc}"}

    answers = await asyncio.gather(*(one(n, u) for n, u in runtime.settings.upstream_urls.items()))
    merged: dict[str, Any] = {}
    for _, body in answers:
        merged.update(body.get("projections", {}) if isinstance(body, dict) else {})
    return {"projections": merged, "upstreams": dict(answers), "mode": "distributed"}


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def forward(path: str, request: Request, runtime: RuntimeDep) -> Response:
    """Forward an API call to the service that owns its path."""
    service = owner("/" + path)
    base = runtime.settings.upstream_urls.get(service or "")
    if service is None or base is None:
        raise NotFound(f"no service answers /{path}")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP | FORWARDED}
    headers["x-correlation-id"] = str(correlation_id())  # one id for the request, end to end
    client = request.client.host if request.client else None
    seen = request.headers.get("x-forwarded-for")
    if client:
        headers["x-forwarded-for"] = f"{seen}, {client}" if seen else client
    try:
        upstream = await _client(runtime).request(
            request.method, f"{base}/{path}", params=request.query_params, headers=headers,
            content=await request.body(),
        )
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"the {service} service is unreachable ({type(exc).__name__}); retry shortly") from exc
    out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
    return Response(upstream.content, status_code=upstream.status_code, headers=out)


OPENAPI_TTL = 60.0  # seconds the merged document is served before the upstreams are asked again


@merged.get("/openapi.json")
async def merged_openapi(request: Request, runtime: RuntimeDep) -> Response:
    """The document of every service this gateway routes to, as one API (the origin partners use)."""
    cached: tuple[dict[str, Any], float] | None = runtime.state.get("gateway_openapi")
    if cached is not None and cached[1] > time.monotonic():
        return JSONResponse(cached[0])
    client = _client(runtime)

    async def one(name: str, url: str) -> tuple[str, dict[str, Any]]:
        try:
            answer = await client.get(f"{url}/openapi.json")
            answer.raise_for_status()
            doc: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UpstreamUnavailable(f"the {name} service's API document is unavailable ({type(exc).__name__})") from exc
        return name, doc

    docs = dict(await asyncio.gather(*(one(n, u) for n, u in sorted(runtime.settings.upstream_urls.items()))))
    document = merge_documents(request.app.openapi(), docs)
    runtime.state["gateway_openapi"] = (document, time.monotonic() + OPENAPI_TTL)
    return JSONResponse(document)


def merge_documents(base: dict[str, Any], upstreams: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`base` (the gateway's own operations) plus each upstream's paths that it owns here, with
    their components; a component two services name alike but define differently is renamed
    (`<Service><Name>`) in the later service's part, so neither is described wrongly."""
    out = copy.deepcopy(base)
    paths: dict[str, Any] = out.setdefault("paths", {})
    sections: dict[str, dict[str, Any]] = out.setdefault("components", {})
    for service, doc in upstreams.items():
        renames: dict[str, str] = {}
        for section, items in doc.get("components", {}).items():
            have = sections.setdefault(section, {})
            for name, value in items.items():
                if name in have and have[name] != value:
                    renames[f"#/components/{section}/{name}"] = f"#/components/{section}/{service.title()}{name}"
        doc = _renamed(doc, renames)
        for section, items in doc.get("components", {}).items():
            sections[section].update({k: v for k, v in items.items() if k not in sections[section]})
        paths.update({p: ops for p, ops in doc.get("paths", {}).items() if owner(p) == service})
    return out


def _renamed(doc: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """`doc` with the components in `renames` (old ref -> new ref) moved, and every $ref to them."""
    if not renames:
        return doc
    out: dict[str, Any] = _refs_rewritten(doc, renames)
    for old, new in renames.items():
        section, name = old.split("/")[2:4]
        items = out["components"][section]
        items[new.rsplit("/", 1)[1]] = items.pop(name)
    return out


def _refs_rewritten(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _refs_rewritten(v, renames)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_refs_rewritten(item, renames) for item in value]
    return value


def create_gateway(settings: Settings, clock: Clock = system_clock) -> FastAPI:
    """The dashboard plus the routing table; no service of its own."""
    if not settings.upstream_urls:
        raise ValueError("the gateway needs UPSTREAMS, e.g. intake=http://127.0.0.1:8101,...")
    gateway = settings.model_copy(update={"run_projections": False, "run_relay": False})
    app = build_app(gateway, [], clock, extra=[dashboard_router, router], title="After-sales gateway", prefer=[merged])
    # FastAPI's own /openapi.json route comes first; the merged document replaces it.
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != app.openapi_url]
    return app
