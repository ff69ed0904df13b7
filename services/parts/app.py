"""Wiring only: the parts service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.parts.api import router
from services.parts.projection import PROJECTION

SERVICE = ServiceSpec(name="parts", router=router, projections=[PROJECTION])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="parts"), [SERVICE], title="parts service")
