"""Wiring only: the dispatch service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import Runtime, ServiceSpec
from services.dispatch import reference
from services.dispatch.api import router
from services.dispatch.jobs import parts_watcher, sla_watcher
from services.dispatch.projection import PROJECTION


async def setup(runtime: Runtime) -> None:
    """Create the owned tables (outlet registry, SLA policies); projections are set up by the runtime."""
    await reference.create_tables(runtime.engine)


SERVICE = ServiceSpec(name="dispatch", router=router, projections=[PROJECTION], jobs=[sla_watcher, parts_watcher], setup=setup)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="dispatch"), [SERVICE], title="dispatch service")
