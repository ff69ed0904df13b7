"""Wiring only: the intake service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.intake import webhooks
from services.intake.api import router
from services.intake.projection import PROJECTION

# intake's durable tables (nonces, webhook secrets and outbox) are made by the migrations (app/durable.py)
SERVICE = ServiceSpec(name="intake", router=router, projections=[PROJECTION], jobs=[webhooks.job])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="intake"), [SERVICE], title="intake service")
