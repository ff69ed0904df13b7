"""`python -m app.ops <command>`: the operator CLI of libs/events/cli.py with every service's
projections, so `rebuild` and `retry` can apply events (the kernel itself knows no service)."""

from __future__ import annotations

from app.main import ALL
from libs.events.cli import Projections, main


def service_projections() -> Projections:
    return {p.name: p for service in ALL.values() for p in service.projections}


if __name__ == "__main__":
    main(projections=service_projections())
