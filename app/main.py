"""The composition root: which services run in this process, chosen by settings."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, FastAPI

from app import receipts
from app.dashboard import router as dashboard_router
from app.status_page import router as status_page_router
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


def _with_status_page(notify: ServiceSpec) -> ServiceSpec:
    """Notify's process serves the customers' status page, which books through dispatch's use
    case and files the feedback form through quality's: only the composition root joins them."""
    router = APIRouter()
    router.include_router(notify.router)
    router.include_router(status_page_router)
    return replace(notify, router=router)


ALL: dict[str, ServiceSpec] = {s.name: s for s in (INTAKE, DISPATCH, SETTLEMENT, QUALITY,
                                                    _with_status_page(NOTIFY), PARTS)}


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    unknown = set(settings.service_names) - set(ALL)
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}; choose from {sorted(ALL)}")
    extra = [dashboard_router, principals_api.router]
    services = [ALL[name] for name in settings.service_names] + [receipts.SERVICE]  # the day job
    return build_app(settings, services, clock, extra=extra)
