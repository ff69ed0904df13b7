"""What-if: a draft fee standard replayed over a period, as a difference against what happened.

The settlement read model is rebuilt from the events into a scratch database
(`libs.events.history.rebuild_until`, up to the log's head when the job starts); the live
read model and the fee-standard table are only read, never written. For every order of the
draft's maker (and provider, unless the draft is maker-wide) repaired in the period:

- actual: the total of its current settlement (the latest one not reversed), or, for an
  order not settled yet, the proposal under the standard in force (as `/settlements/open`);
- draft: the proposal the draft gives for the same facts (`domain.pricing.propose`, its
  rules included), with finance's line decisions of the current settlement carried onto it
  (`domain.review.replay`: a rejected line stays rejected, an override stays approved, a
  reduction keeps its share), so the difference is the draft's, not finance's.

Answered per order and per provider, actual vs draft and the difference, with totals.
`python -m services.settlement.whatif --draft draft.json --from 2026-05-01 --to 2026-05-31`
prints the same answer as JSON (progress on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.catalog import SettlementLine
from libs.events.chinatime import midnight
from libs.events.clock import Clock, system_clock
from libs.events.db import create_engine, reader
from libs.events.history import rebuild_until
from libs.events.settings import Settings
from libs.events.store import store_for
from libs.events.store.port import EventStore
from services.settlement.domain.pricing import PricingError, propose
from services.settlement.domain.review import replay
from services.settlement.domain.standards import ANY_PROVIDER, FeeStandard, FeeStandardCreate
from services.settlement.projection import PROJECTION, orders, settlements
from services.settlement.queries import facts_of, proposal_of
from services.settlement.reference import load_standards

KEEP_JOBS = 20  # finished jobs kept per process for polling


class WhatIfRequest(BaseModel):
    """A draft standard (not recorded anywhere) and the period of repairs to replay it over."""

    draft: FeeStandardCreate
    from_: date = Field(alias="from", description="first repair day (China time), inclusive")
    to: date = Field(description="last repair day (China time), inclusive")

    @model_validator(mode="after")
    def _ordered(self) -> WhatIfRequest:
        if self.to < self.from_:
            raise ValueError("`to` is before `from`")
        return self


def draft_standard(body: FeeStandardCreate, clock: Clock, actor: str) -> FeeStandard:
    return FeeStandard(
        **body.model_dump(),
        standard_id=f"draft:{body.maker}:{body.provider_id}",
        seq=0,
        recorded_at=clock(),
        recorded_by=actor,
    )


def _current(history: Sequence[RowMapping]) -> RowMapping | None:
    current = [s for s in history if s["reversed_at"] is None]
    return max(current, key=lambda s: s["settled_at"]) if current else None


async def compare(
    engine: AsyncEngine,
    live_standards: list[FeeStandard],
    draft: FeeStandard,
    first: date,
    last: date,
) -> dict[str, Any]:
    """The difference table over the read model in `engine` (a scratch copy)."""
    query = select(orders).where(
        orders.c.maker == draft.maker,
        orders.c.repaired_at >= midnight(first),
        orders.c.repaired_at < midnight(last + timedelta(days=1)),
    )
    if draft.provider_id != ANY_PROVIDER:
        query = query.where(orders.c.provider_id == draft.provider_id)
    async with reader(engine).connect() as conn:
        rows = list((await conn.execute(query.order_by(orders.c.repaired_position))).mappings())
        done: dict[str, list[RowMapping]] = defaultdict(list)
        for s in (
            await conn.execute(
                select(settlements).where(settlements.c.order_id.in_([r["order_id"] for r in rows]))
            )
        ).mappings():
            done[s["order_id"]].append(s)
    items = [_line(row, done[row["order_id"]], live_standards, draft) for row in rows]
    providers: dict[str, dict[str, Any]] = {}
    for item in items:
        cell = providers.setdefault(
            item["provider_id"],
            {
                "provider_id": item["provider_id"],
                "orders": 0,
                "actual_fen": 0,
                "draft_fen": 0,
                "difference_fen": 0,
            },
        )
        cell["orders"] += 1
        for key in ("actual_fen", "draft_fen", "difference_fen"):
            cell[key] += item[key] or 0
    totals = {
        key: sum(p[key] for p in providers.values())
        for key in ("orders", "actual_fen", "draft_fen", "difference_fen")
    }
    return {
        "maker": draft.maker,
        "provider_id": draft.provider_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "orders": items,
        "providers": sorted(providers.values(), key=lambda p: str(p["provider_id"])),
        "totals": totals,
    }


def _line(
    row: RowMapping, history: Sequence[RowMapping], live: list[FeeStandard], draft: FeeStandard
) -> dict[str, Any]:
    current = _current(history)
    actual: int | None
    if current is not None:
        actual, basis = int(current["total_fen"]), "settled"
    else:
        proposal = proposal_of(row, live)["proposal"]
        actual, basis = (proposal["total_fen"], "proposed") if proposal else (None, "none")
    facts = facts_of(row)
    drafted: int | None
    carried = 0
    try:
        proposal = propose(facts, draft) if facts else None
        problem = None if facts else "order is not reported, dispatched and repaired yet"
    except PricingError as exc:
        proposal, problem = None, str(exc)
    drafted = None
    if proposal is not None:
        lines = proposal.lines
        if current is not None:  # finance's line decisions apply to the draft's lines too
            lines, carried = replay(lines, [SettlementLine.model_validate(x) for x in current["lines"]])
        drafted = sum(line.amount_fen for line in lines)
    difference = (drafted or 0) - (actual or 0)
    return {
        "order_id": row["order_id"],
        "provider_id": row["provider_id"],
        "actual_basis": basis,
        "actual_fen": actual,
        "draft_fen": drafted,
        "difference_fen": difference,
        "decisions_carried": carried,
        "problem": problem,
    }


async def what_if(
    store: EventStore,
    live: AsyncEngine,
    request: WhatIfRequest,
    draft: FeeStandard,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay into a scratch read model and compare; the scratch copy is deleted afterwards."""
    head = await store.head_position()
    if progress:
        progress(0, head)
    scratch = await rebuild_until(store, PROJECTION, head, progress=progress)
    try:
        standards = await load_standards(live, draft.maker)
        result = await compare(scratch.engine, standards, draft, request.from_, request.to)
    finally:
        await scratch.close()
    return result | {"replayed_events": scratch.events, "as_of": head}


@dataclass
class Job:
    """One what-if run, polled over the API."""

    id: str
    started_at: datetime
    maker: str  # whose draft: only that maker's staff (or the platform's) may poll it
    state: Literal["running", "done", "failed"] = "running"
    processed: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def public(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "state": self.state,
            "processed": self.processed,
            "total": self.total,
            "started_at": self.started_at,
            "result": self.result,
            "error": self.error,
        }


class Jobs:
    """The process's what-if jobs (the newest KEEP_JOBS kept)."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def start(
        self,
        store: EventStore,
        live: AsyncEngine,
        request: WhatIfRequest,
        draft: FeeStandard,
        clock: Clock,
    ) -> Job:
        job = Job(id=str(uuid.uuid4()), started_at=clock(), maker=draft.maker)

        def progress(processed: int, total: int) -> None:
            job.processed, job.total = processed, total

        async def run() -> None:
            try:
                job.result = await what_if(store, live, request, draft, progress)
                job.processed, job.state = job.total, "done"
            except Exception as exc:  # a failed replay is reported on the job, not lost in a task
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"

        job.task = asyncio.create_task(run(), name=f"whatif-{job.id}")
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)


def parse_cli(argv: Sequence[str]) -> tuple[WhatIfRequest, str | None]:
    """The request and the database URL (None: from Settings) the command line names."""
    parser = argparse.ArgumentParser(
        prog="python -m services.settlement.whatif", description=__doc__
    )
    parser.add_argument("--draft", required=True, help="JSON file with the draft fee standard")
    parser.add_argument("--from", dest="from_", required=True, help="first repair day, YYYY-MM-DD")
    parser.add_argument("--to", required=True, help="last repair day, YYYY-MM-DD")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    with open(args.draft, encoding="utf-8") as f:
        body = json.load(f)
    return WhatIfRequest.model_validate(
        {"draft": body, "from": args.from_, "to": args.to}
    ), args.database_url


async def cli(
    request: WhatIfRequest, database_url: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """The CLI's body (testable in a running loop); returns the exit status."""
    engine = create_engine(database_url)
    try:

        def progress(processed: int, total: int) -> None:
            err.write(f"\rreplayed {processed:,}/{total:,} positions")

        draft = draft_standard(request.draft, system_clock, "cli")
        result = await what_if(store_for(engine), engine, request, draft, progress)
    finally:
        await engine.dispose()
    err.write("\n")
    out.write(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    return 0


def main() -> None:
    request, url = parse_cli(sys.argv[1:])
    raise SystemExit(asyncio.run(cli(request, url or Settings().database_url)))


if __name__ == "__main__":
    main()
