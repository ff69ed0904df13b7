"""Wiring only: the dispatch service as a ServiceSpec, and as a standalone app."""

from fastapi import APIRouter, FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec

SERVICE = ServiceSpec(name="dispatch", router=APIRouter(tags=["dispatch"]))


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="dispatch"), [SERVICE], title="dispatch service")
