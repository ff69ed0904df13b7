"""Build a FastAPI app from services: the same builder for one service or all four."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from libs.events.clock import Clock, system_clock
from libs.events.kafka import topic_exists
from libs.events.settings import Settings
from libs.web import metrics, openapi, problems
from libs.web.consistency import ANSWER_HOOK
from libs.web.deps import RuntimeDep
from libs.web.middleware import EdgeMiddleware
from libs.web.problems import problem_response
from libs.web.runtime import Runtime, ServiceSpec
from libs.web.security import SecurityHeaders, drop_demo_keys, install_docs

ops = APIRouter(tags=["operations"])


@ops.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@ops.get("/readyz", response_model=None)
async def readyz(runtime: RuntimeDep) -> dict[str, object] | Response:
    """Readiness: the database (and, in distributed mode, the broker) is reachable."""
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if runtime.settings.kafka_bootstrap:
        try:
            # bounded: a probe must answer within the orchestrator's timeout even if the broker hangs
            await asyncio.wait_for(topic_exists(runtime.settings.kafka_bootstrap, runtime.settings.topic), 3.0)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        degraded = await _degraded(runtime) if checks.get("database") == "ok" else {}
        # Still ready (200): the API answers, and taking the pod out of rotation would hide
        # every figure, not only the incomplete ones. But a dead letter is an alarm.
        if degraded:
            return {"status": "degraded", "checks": checks, "degraded": degraded}
        return {"status": "ready", "checks": checks}
    return problem_response(503, "Service unavailable", "not ready", None, checks=checks)


async def _degraded(runtime: Runtime) -> dict[str, str]:
    """This process's projections holding unresolved dead letters: their read models miss events."""
    dead = await runtime.dead_letter_counts()
    return {
        name: f"degraded: {dead[name]} dead letter(s); its figures are incomplete"
        for name in runtime.projectors if dead.get(name)
    }


@ops.get("/ops/projections")
async def projections(runtime: RuntimeDep) -> dict[str, object]:
    """Freshness of every read model in this process: how far it lags behind the store."""
    dead = await runtime.dead_letter_counts()
    out: dict[str, object] = {}
    for name in runtime.projectors:
        lag = await runtime.lag(name)
        out[name] = {
            "position": lag.position, "head": lag.head, "lag_events": lag.events,
            "lag_seconds": round(lag.seconds, 3), "dead_letters": dead.get(name, 0),
            "status": "degraded" if dead.get(name) else "ok",
        }
    relay = None
    if runtime.relay is not None:
        head = await runtime.store.head_position()
        relay = {"position": await runtime.relay.position(), "head": head}
    return {"projections": out, "relay": relay, "mode": "distributed" if runtime.settings.kafka_bootstrap else "embedded"}


@ops.get("/metrics", include_in_schema=False)
async def prometheus() -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def build_app(
    settings: Settings,
    services: list[ServiceSpec],
    clock: Clock = system_clock,
    extra: list[APIRouter] | None = None,
    title: str = "After-sales service backend",
    prefer: list[APIRouter] | None = None,
) -> FastAPI:
    """`prefer` routers are matched before the operations routes (the gateway overrides one)."""
    runtime = Runtime(settings, services, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        await drop_demo_keys(runtime)
        yield
        await runtime.stop()

    app = FastAPI(
        title=title,
        version="1.0.0",
        lifespan=lifespan,
        description="Event-sourced after-sales service orders. Errors are RFC 9457 problem documents.",
        docs_url=None, redoc_url=None,  # served from local files by install_docs (no CDN)
    )
    install_docs(app)
    app.state.runtime = runtime
    for projector in runtime.projectors.values():
        metrics.count_dead_letters(projector)
    problems.install(app)
    openapi.install(app)
    app.add_middleware(EdgeMiddleware, max_body=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    for router in prefer or []:
        app.include_router(router)
    app.include_router(ops)
    for service in services:
        app.include_router(service.router, dependencies=[ANSWER_HOOK])  # X-Position
    for router in extra or []:
        app.include_router(router)
    return app
