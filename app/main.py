"""The composition root: which services run in this process, chosen by settings."""

from __future__ import annotations

from fastapi import FastAPI

from app import receipts
from app.dashboard import router as dashboard_router
from libs.events.clock import Clock, system_clock
from libs.events.settings import Settings
from libs.web import principals_api
from libs.web.app import build_app
from libs.web.runtime import ServiceSpec
from services.dispatch.app import SERVICE as DISPATCH
from services.intake.app import SERVICE as INTAKE
from services.notify.app import SERVICE as NOTIFY
from services.parts.app import SERVICE as PARTS
from services.quality.app import SERVICE as QUALITY
from services.settlement.app import SERVICE as SETTLEMENT

ALL: dict[str, ServiceSpec] = {s.name: s for s in (INTAKE, DISPATCH, SETTLEMENT, QUALITY, NOTIFY, PARTS)}


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    unknown = set(settings.service_names) - set(ALL)
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}; choose from {sorted(ALL)}")
    extra = [dashboard_router, principals_api.router]
    services = [ALL[name] for name in settings.service_names] + [receipts.SERVICE]  # the day job
    return build_app(settings, services, clock, extra=extra)
