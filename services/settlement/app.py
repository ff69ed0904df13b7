"""Wiring only: the settlement service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.settlement.api import router
from services.settlement.projection import PROJECTION
from services.settlement.returns_projection import PROJECTION as RETURNS

# the fee-standards table settlement owns is durable: made by the migrations (app/durable.py)
SERVICE = ServiceSpec(name="settlement", router=router, projections=[PROJECTION, RETURNS])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="settlement"), [SERVICE], title="settlement service")
