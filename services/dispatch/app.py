"""Wiring only: the dispatch service as a ServiceSpec, and as a standalone app."""

from fastapi import FastAPI

from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.dispatch import certifications, leads
from services.dispatch.api import router
from services.dispatch.jobs import parts_watcher, sla_watcher
from services.dispatch.projection import PROJECTION

# the outlet registry and SLA policies are durable: made by the migrations (app/durable.py)
SERVICE = ServiceSpec(name="dispatch", router=router, projections=[PROJECTION, certifications.PROJECTION, leads.PROJECTION],
                      jobs=[sla_watcher, parts_watcher, leads.lead_router])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="dispatch"), [SERVICE], title="dispatch service")
