"""`python -m app` serves the configured services (all four on SQLite by default)."""

from __future__ import annotations

import faulthandler
import signal

import uvicorn

from app.gateway import create_gateway
from app.main import create_app
from libs.events.settings import Settings
from libs.web.context import configure_logging


def main() -> None:
    # SIGUSR2: every thread's Python stack to stderr, even when the event loop is blocked
    # (SIGUSR1, handled on the loop, shows the asyncio tasks).
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    settings = Settings()
    settings.check_secrets()  # refuses a default or published secret unless DEMO=true
    configure_logging(settings.log_level, settings.log_json)
    app = create_gateway(settings) if settings.role == "gateway" else create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
