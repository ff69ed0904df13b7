"""Run every benchmark section (or those named: `python -m bench store relay`)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys
import time

import bench
from bench.report import Report


def main() -> None:
    wanted = set(sys.argv[1:])
    report = Report()
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    for name in names:
        short = name.removeprefix("bench_")
        if wanted and short not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        report.section(short, getattr(module, "__doc__", "") or "")
        started = time.perf_counter()
        asyncio.run(module.run(report))
        report.line(f"(section took {time.perf_counter() - started:.1f}s)")
    report.finish()


if __name__ == "__main__":
    main()
