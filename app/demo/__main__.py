"""`python -m app.demo [--seed N] [--months M]`: simulate after-sales months into the configured database.

Runs all four services in-process (httpx over ASGI, no server, no network) with a manual
clock moved along the simulated months, so every event goes through the real commands.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from app.demo.simulate import Demo, Stats, window
from app.main import create_app
from libs.events.clock import ManualClock
from libs.events.settings import Settings
from libs.events.status_urls import status_url
from libs.web.auth import DEMO_RATE, create_principal
from libs.web.runtime import Runtime
from services.notify.projection import orders as notify_orders


class Bar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, width: int = 40) -> None:
        self.width, self.tty, self.last = width, sys.stderr.isatty(), -1

    def __call__(self, fraction: float, text: str) -> None:
        percent = int(fraction * 100)
        if percent == self.last:
            return
        self.last = percent
        filled = int(self.width * fraction)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}% {text}"
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if percent >= 100 else ""))
        elif percent % 10 == 0:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


async def fill(settings: Settings, seed: int, days: float, until: datetime, orders_per_day: float,
               progress: Bar | None = None) -> Stats:
    """Simulate into `settings.database_url`; returns what was done and what the API refused."""
    start, end = window(until, days)
    clock = ManualClock(start)
    # Projections catch up in batches when the demo syncs (before settling and closing a month,
    # and at the end) instead of after every request: the same events, several times faster.
    app = create_app(settings.model_copy(update={"run_projections": False}), clock)
    runtime: Runtime = app.state.runtime
    await runtime.start()
    try:
        if (events := await runtime.store.head_position()) > 0:
            raise SystemExit(f"the database already holds {events} events: the demo fills an empty one "
                             "(make demo replaces the embedded SQLite file; for PostgreSQL use a new database)")
        from app.demo import world

        for key, id_, name in world.PARTNERS[2:]:
            await create_principal(runtime.engine, clock, id=id_, role="partner", name=name, key=key, actor="demo",
                                   rate_limit=DEMO_RATE)
        for key, id_, role, name, party in world.STAFF:
            await create_principal(runtime.engine, clock, id=id_, role=role, name=name, party=party, key=key,
                                   actor="demo", rate_limit=DEMO_RATE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo") as client:
            demo = Demo(client, clock, random.Random(seed), runtime)
            stats = await demo.run(start, end, orders_per_day, progress or (lambda _f, _t: None))
        if "notify" not in settings.service_names:
            return stats
        async with runtime.engine.connect() as conn:  # the customers' links (issue 18)
            last = (await conn.execute(select(notify_orders.c.order_id, notify_orders.c.reported_at).order_by(
                notify_orders.c.reported_at.desc()).limit(1))).first()
        stats.status_link = (status_url(settings, last.order_id, last.reported_at) or "") if last else ""
        return stats
    finally:
        await runtime.stop()


def _moment(text: str) -> datetime:
    """An ISO date (midnight UTC) or an aware date-time."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same demo")
    parser.add_argument("--months", type=float, default=3, help="simulated months (1-3 is realistic)")
    parser.add_argument("--until", type=_moment, default=datetime.now(UTC).replace(minute=0),
                        help="end of the simulation, ISO date or date-time (default: now, to the hour); "
                             "the same seed and --until give the same demo")
    parser.add_argument("--orders-per-day", type=float, default=8.0)
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the embedded SQLite file")
    parser.add_argument("--fresh", action="store_true", help="delete the embedded SQLite file first")
    args = parser.parse_args(argv)
    settings = Settings(sla_watch_interval=3600, log_level="WARNING", demo=True,
                        **({"database_url": args.database_url} if args.database_url else {}))
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.fresh:
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    stats = asyncio.run(fill(settings, args.seed, round(30.4 * args.months, 2), args.until, args.orders_per_day, Bar()))
    print(f"demo: {len(stats.orders)} orders, {sum(stats.calls.values())} requests in {time.perf_counter() - started:.1f} s "
          f"into {settings.database_url}")
    print(f"  SLA breaches escalated by the watcher: {stats.escalated_by_watcher}")
    print("  " + ", ".join(f"{k} {v} ({stats.seconds.get(k, 0.0) / v * 1000:.0f} ms)" for k, v in sorted(stats.calls.items())))
    for label, example in sorted(stats.missing.items()):
        print(f"  skipped (endpoint not in this build): {label}: {example}")
    for example in stats.examples:
        print(f"  refused: {example}")
    print("then: make run, and open http://127.0.0.1:8000/ (the demo operator key is pre-filled)")
    if stats.status_link:
        print(f"  a customer's status page: {stats.status_link}")
    return 1 if stats.refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
