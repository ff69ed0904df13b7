"""Wiring only: the intake service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import Runtime, ServiceSpec
from services.intake import reference, webhooks
from services.intake.api import router
from services.intake.projection import PROJECTION


async def setup(runtime: Runtime) -> None:
    """Create intake's own durable tables (nonces, webhook secrets and outbox)."""
    async with runtime.engine.begin() as conn:
        await conn.run_sync(reference.metadata.create_all)


SERVICE = ServiceSpec(name="intake", router=router, projections=[PROJECTION], jobs=[webhooks.job], setup=setup)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="intake"), [SERVICE], title="intake service")
