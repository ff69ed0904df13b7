"""Wiring only: the settlement service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import Runtime, ServiceSpec
from services.settlement.api import router
from services.settlement.projection import PROJECTION
from services.settlement.reference import create_tables
from services.settlement.returns_projection import PROJECTION as RETURNS


async def setup(runtime: Runtime) -> None:
    """Create the fee-standards table settlement owns (not a projection: never rebuilt)."""
    await create_tables(runtime.engine)


SERVICE = ServiceSpec(name="settlement", router=router, projections=[PROJECTION, RETURNS], setup=setup)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="settlement"), [SERVICE], title="settlement service")
