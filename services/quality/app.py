"""Wiring only: the quality service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.quality.api import router
from services.quality.projection import PROJECTION

SERVICE = ServiceSpec(name="quality", router=router, projections=[PROJECTION])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="quality"), [SERVICE], title="quality service")
