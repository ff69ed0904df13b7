"""`python -m app` serves the configured services (all four on SQLite by default)."""

from __future__ import annotations

import uvicorn

from app.main import create_app
from libs.events.settings import Settings
from libs.web.context import configure_logging


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
