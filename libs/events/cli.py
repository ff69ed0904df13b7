"""Operator CLI: `python -m app.ops <command>` against the store named by DATABASE_URL.

    stats                      events, streams, types, head position
    relay                      the relay's checkpoint against the head (what is not yet on Kafka)
    projections                every projection: position, lag, streams behind, dead letters
    rebuild NAME               reset one projection and replay the store into it (progress bar)
    dead-letters [-p NAME]     list unresolved dead letters (--all: resolved ones too)
    retry ID... | --all        re-apply dead-lettered events through their projection; mark them resolved
    receipt issue|verify|show  signed chain receipts (libs/events/receipt_cli.py)

`python -m libs.events` runs the same commands without the services' projections (the kernel
imports no service), so `rebuild` and `retry` there point to `app.ops`. `--json` prints
machine-readable output. The CLI reads the database only through the
tables of libs.events (and, for rebuild/retry, the services' projection code), so it works
the same while the services run: a rebuild takes the projection's tables from under a
running projector, so stop that projector first (its checkpoints restart at zero).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import catalog, receipt_cli
from libs.events.clock import Clock, system_clock
from libs.events.db import create_engine, reader
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection, Projector
from libs.events.schema import checkpoints, dead_letters, events, stream_checkpoints
from libs.events.settings import Settings
from libs.events.store import store_for

Projections = dict[str, Projection]


NEEDS_PROJECTIONS = "needs the services' projections: run it as `python -m app.ops {command} ...`\n"


# --- queries -------------------------------------------------------------------------------
async def store_stats(engine: AsyncEngine) -> dict[str, Any]:
    async with reader(engine).connect() as conn:
        count, head, first, last = (await conn.execute(
            select(func.count(), func.coalesce(func.max(events.c.position), 0),
                   func.min(events.c.recorded_at), func.max(events.c.recorded_at)))).one()
        streams = (await conn.execute(select(func.count(func.distinct(events.c.stream_id))))).scalar_one()
        types = (await conn.execute(
            select(events.c.type, func.count()).group_by(events.c.type).order_by(events.c.type))).all()
    return {"events": int(count), "streams": int(streams), "head_position": int(head),
            "first_recorded_at": _iso(first), "last_recorded_at": _iso(last),
            "types": {t: int(n) for t, n in types}}


async def relay_status(engine: AsyncEngine, topic: str) -> dict[str, Any]:
    name = f"relay:{topic}"
    async with reader(engine).connect() as conn:
        head = (await conn.execute(select(func.coalesce(func.max(events.c.position), 0)))).scalar_one()
        row = (await conn.execute(select(checkpoints.c.position, checkpoints.c.updated_at)
                                  .where(checkpoints.c.name == name))).first()
    position = int(row[0]) if row else 0
    return {"relay": name, "position": position, "head_position": int(head), "lag_events": int(head) - position,
            "updated_at": _iso(row[1]) if row else None}


async def projection_status(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Per projection: checkpoint position, events behind it, streams not fully applied, dead letters.

    With a Kafka feed the position is the highest event applied, and partitions advance
    independently; `streams_behind` (streams whose last version the projection has not
    applied) is the exact measure of what is still missing.
    """
    async with reader(engine).connect() as conn:
        head = int((await conn.execute(select(func.coalesce(func.max(events.c.position), 0)))).scalar_one())
        rows = (await conn.execute(select(checkpoints.c.name, checkpoints.c.position, checkpoints.c.updated_at)
                                   .order_by(checkpoints.c.name))).all()
        names = [r[0] for r in rows if not r[0].startswith("relay:") and not r[0].endswith(":reconciled")]
        latest = select(events.c.stream_id, func.max(events.c.version).label("v")).group_by(events.c.stream_id).subquery()
        out = []
        for name, position, updated in rows:
            if name not in names:
                continue
            sc = stream_checkpoints
            behind = (await conn.execute(
                select(func.count()).select_from(latest.outerjoin(sc, and_(sc.c.projection == name,
                                                                            sc.c.stream_id == latest.c.stream_id)))
                .where((sc.c.version.is_(None)) | (sc.c.version < latest.c.v)))).scalar_one()
            dead = (await conn.execute(select(func.count()).where(
                dead_letters.c.projection == name, dead_letters.c.resolved_at.is_(None)))).scalar_one()
            out.append({"projection": name, "position": int(position), "head_position": head,
                        "lag_events": max(head - int(position), 0), "streams_behind": int(behind),
                        "dead_letters": int(dead), "updated_at": _iso(updated)})
    return out


async def list_dead_letters(engine: AsyncEngine, projection: str | None = None,
                            include_resolved: bool = False) -> list[dict[str, Any]]:
    query = select(dead_letters.c.id, dead_letters.c.projection, dead_letters.c.stream_id, dead_letters.c.version,
                   dead_letters.c.position, dead_letters.c.type, dead_letters.c.schema_version,
                   dead_letters.c.reason, dead_letters.c.created_at, dead_letters.c.resolved_at).order_by(dead_letters.c.id)
    if projection:
        query = query.where(dead_letters.c.projection == projection)
    if not include_resolved:
        query = query.where(dead_letters.c.resolved_at.is_(None))
    async with reader(engine).connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [{**dict(r), "created_at": _iso(r["created_at"]), "resolved_at": _iso(r["resolved_at"])} for r in rows]


async def retry_dead_letters(engine: AsyncEngine, projections: Projections, ids: Sequence[int] | None,
                             projection: str | None = None, clock: Clock = system_clock) -> list[dict[str, Any]]:
    """Re-apply each dead-lettered event through its projection's handler; resolve it on success.

    The projector's stream checkpoint has already moved past a dead-lettered event (the
    projection went on), so the handler is called directly, in one transaction with the
    `resolved_at` mark. A failure keeps the letter open with the new reason.
    """
    query = select(dead_letters).where(dead_letters.c.resolved_at.is_(None)).order_by(dead_letters.c.position)
    if ids:
        query = query.where(dead_letters.c.id.in_(list(ids)))
    if projection:
        query = query.where(dead_letters.c.projection == projection)
    async with reader(engine).connect() as conn:
        letters = (await conn.execute(query)).mappings().all()
    results = []
    for letter in letters:
        outcome = {"id": letter["id"], "projection": letter["projection"], "type": letter["type"]}
        found = projections.get(letter["projection"])
        if found is None:
            results.append({**outcome, "resolved": False, "reason": "unknown projection"})
            continue
        event = StoredEvent.model_validate(letter["event"])
        try:
            current = catalog.upcast(event)
            data = catalog.parse(current)
            handler = found.handlers.get(current.type)
            async with engine.begin() as conn:
                if handler is not None:
                    await handler(conn, current, data)
                await conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"])
                                   .values(resolved_at=clock()))
            results.append({**outcome, "resolved": True, "reason": None})
        except Exception as exc:
            reason = f"retry failed: {type(exc).__name__}: {exc}"
            async with engine.begin() as conn:
                await conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(reason=reason))
            results.append({**outcome, "resolved": False, "reason": reason})
    return results


async def rebuild(engine: AsyncEngine, projection: Projection, progress: Callable[[int, int], None] | None = None,
                  batch: int = 2000) -> int:
    projector = Projector(engine, projection, store_for(engine))
    await projector.setup()
    return await projector.rebuild(batch=batch, progress=progress)


# --- presentation --------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on a terminal stream (position of head)."""

    def __init__(self, out: TextIO, width: int = 40) -> None:
        self.out, self.width = out, width

    def __call__(self, position: int, head: int) -> None:
        share = 1.0 if head <= 0 else min(position / head, 1.0)
        filled = int(share * self.width)
        self.out.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {share:6.1%}  {position}/{head}")
        self.out.flush()

    def done(self) -> None:
        self.out.write("\n")
        self.out.flush()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _table(rows: list[dict[str, Any]], columns: list[str], out: TextIO) -> None:
    if not rows:
        out.write("(none)\n")
        return
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m libs.events", description="Operator commands for the event store.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("stats", help="events, streams, types, head position")
    sub.add_parser("relay", help="relay checkpoint vs head")
    sub.add_parser("projections", help="position, lag and dead letters per projection")
    rb = sub.add_parser("rebuild", help="reset one projection and replay the store into it")
    rb.add_argument("name")
    rb.add_argument("--batch", type=int, default=2000)
    dl = sub.add_parser("dead-letters", help="list dead letters")
    dl.add_argument("-p", "--projection")
    dl.add_argument("--all", action="store_true", help="include resolved ones")
    rt = sub.add_parser("retry", help="re-apply dead letters and mark them resolved")
    rt.add_argument("ids", nargs="*", type=int)
    rt.add_argument("-p", "--projection")
    rt.add_argument("--all", action="store_true", help="every unresolved dead letter")
    receipt_cli.add_parser(sub)
    return p


async def run(argv: Sequence[str], settings: Settings | None = None, projections: Projections | None = None,
              out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one command; returns the exit status (0 ok, 1 something failed or was not found)."""
    args = parser().parse_args(list(argv))
    settings = settings or Settings()
    engine = create_engine(settings.database_url)
    try:
        return await _dispatch(args, engine, settings, projections, out, err)
    finally:
        await engine.dispose()


async def _dispatch(args: argparse.Namespace, engine: AsyncEngine, settings: Settings,
                    projections: Projections | None, out: TextIO, err: TextIO) -> int:
    def emit(value: Any, text: Callable[[], object]) -> None:
        if args.json:
            out.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
        else:
            text()

    if args.command == "receipt":
        return await receipt_cli.run(args, engine, settings, out, err)
    if args.command == "stats":
        stats = await store_stats(engine)

        def show() -> None:
            for key in ("events", "streams", "head_position", "first_recorded_at", "last_recorded_at"):
                out.write(f"{key:<18} {stats[key]}\n")
            _table([{"type": t, "events": n} for t, n in stats["types"].items()], ["type", "events"], out)

        emit(stats, show)
    elif args.command == "relay":
        status = await relay_status(engine, settings.topic)
        emit(status, lambda: out.write("".join(f"{k:<14} {v}\n" for k, v in status.items())))
    elif args.command == "projections":
        rows = await projection_status(engine)
        emit(rows, lambda: _table(rows, ["projection", "position", "head_position", "lag_events",
                                         "streams_behind", "dead_letters", "updated_at"], out))
    elif args.command == "dead-letters":
        letters = await list_dead_letters(engine, args.projection, args.all)
        emit(letters, lambda: _table(letters, ["id", "projection", "stream_id", "version", "type", "reason",
                                               "created_at", "resolved_at"], out))
    elif args.command == "retry":
        if not args.ids and not args.all:
            err.write("name dead-letter ids, or --all\n")
            return 2
        if projections is None:
            err.write(NEEDS_PROJECTIONS.format(command="retry"))
            return 2
        results = await retry_dead_letters(engine, projections, args.ids or None, args.projection)
        emit(results, lambda: _table(results, ["id", "projection", "type", "resolved", "reason"], out))
        return 0 if all(r["resolved"] for r in results) else 1
    elif args.command == "rebuild":
        if projections is None:
            err.write(NEEDS_PROJECTIONS.format(command="rebuild"))
            return 2
        known = projections
        if args.name not in known:
            err.write(f"unknown projection {args.name!r}; known: {', '.join(sorted(known)) or '(none)'}\n")
            return 1
        bar = ProgressBar(err)
        count = await rebuild(engine, known[args.name], bar, args.batch)
        bar.done()
        emit({"projection": args.name, "events": count},
             lambda: out.write(f"rebuilt {args.name} from {count} events\n"))
    return 0


def main(argv: Sequence[str] | None = None, projections: Projections | None = None) -> None:
    """`projections` come from the composition root (app/ops.py): the kernel knows no service."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["migrate"], ["downgrade"]):  # schema commands: libs/events/db.py
        from libs.events.db import migration_command

        print(migration_command(args, Settings().database_url))
        return
    sys.exit(asyncio.run(run(args, projections=projections)))
