"""`python -m app.importer FILE [--maker M]`: import a maker's history (JSONL or CSV) into the configured database.

Every record goes through the real API in-process (see app/importer/run.py); bad records are
reported by line and field and nothing of them is written; a run started again skips what is
already there and says where it resumed. The late-entry window is 400 days for the run.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import httpx

from app.importer.run import ProgressBar, Summary, import_text
from app.main import create_app
from libs.events.settings import Settings
from libs.web.runtime import Runtime


async def run_file(settings: Settings, name: str, text: str, maker: str | None) -> Summary:
    # no SLA watcher during the run: the history's own arrivals decide its breaches, not the
    # moment the import happens to post them; projections catch up at the end
    app = create_app(settings.model_copy(update={"run_projections": False, "sla_watch_interval": 10**7}))
    runtime: Runtime = app.state.runtime
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://import") as client:
            return await import_text(client, runtime, name, text, maker, ProgressBar())
    finally:
        await runtime.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.importer", description=__doc__)
    parser.add_argument("file", type=Path, help="a .jsonl (one JSON record a line) or .csv file")
    parser.add_argument("--maker", default=None, help="the maker whose history this is (else each record's `maker`)")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the embedded SQLite file")
    args = parser.parse_args(argv)
    settings = Settings(log_level="WARNING", **({"database_url": args.database_url} if args.database_url else {}))
    summary = asyncio.run(run_file(settings, args.file.name, args.file.read_text(encoding="utf-8-sig"), args.maker))
    print("\n".join(summary.lines()))
    return 1 if summary.refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
