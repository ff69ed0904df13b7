"""Wiring only: the notify service as a ServiceSpec (its projection, the dispatcher job, the
ops routes), and as a standalone app (app/main.py adds the customers' status page)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import FastAPI

from libs.events import status_urls as links
from libs.events.settings import Settings
from libs.web.app import build_app
from libs.web.runtime import Runtime, ServiceSpec
from services.notify.api import router
from services.notify.api.ops import OUTBOX, outbox_of
from services.notify.channels.configured import channel_names, channels_from, recipient_key
from services.notify.directory import OrderDirectory
from services.notify.domain.policy import parse_policies
from services.notify.jobs import Dispatcher
from services.notify.outbox import Outbox
from services.notify.projection import PROJECTION, Hub, bind


async def setup(runtime: Runtime) -> None:
    """Bind this runtime's outbox, recipient key, channels and links to its notify projection
    (a channel setting missing fails the start-up here, naming the setting)."""
    settings = runtime.settings
    outbox = Outbox(runtime.engine, runtime.clock)
    runtime.state[OUTBOX] = outbox

    def link_for(order_id: str, issued_at: datetime) -> str | None:
        return links.status_url(settings, order_id, issued_at)

    bind(runtime.engine.sync_engine, Hub(outbox, recipient_key(settings),
                                         tuple(channel_names(settings)), link_for))


async def dispatcher(runtime: Runtime, stop: asyncio.Event) -> None:
    """The dispatcher job: sends what the outbox holds until the runtime stops."""
    settings = runtime.settings
    sender = Dispatcher(outbox_of(runtime), channels_from(settings),
                        OrderDirectory(runtime.engine), parse_policies(settings.notify_policies),
                        max_sleep=settings.notify_interval)
    try:
        await sender.run(stop)
    finally:
        await sender.aclose()


SERVICE = ServiceSpec(name="notify", router=router, projections=[PROJECTION], jobs=[dispatcher],
                      setup=setup)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or Settings(services="notify"), [SERVICE], title="notify service")
