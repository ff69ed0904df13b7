"""The operator CLI (`python -m libs.events`) on both backends: every command, real store."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events import catalog
from libs.events.cli import run
from libs.events.db import create_engine, migrate
from libs.events.envelope import StoredEvent
from libs.events.projection import Projection, Projector
from libs.events.schema import checkpoints
from libs.events.settings import Settings
from libs.events.sqlutil import upsert
from libs.events.store import store_for
from libs.events.subscription import StoreTail
from tests.factories import escalated

pytestmark = pytest.mark.integration

md = MetaData()
moves = Table("cli_moves", md, Column("stream_id", String(100), primary_key=True), Column("moves", Integer))
BROKEN = {"on": True}


async def on_escalated(conn: AsyncConnection, event: StoredEvent, data: catalog.OrderEscalated) -> None:
    if data.reason == "boom" and BROKEN["on"]:
        raise RuntimeError("handler bug")
    row = (await conn.execute(select(moves.c.moves).where(moves.c.stream_id == event.stream_id))).first()
    await upsert(conn, moves, [{"stream_id": event.stream_id, "moves": (row[0] if row else 0) + 1}], ["stream_id"])


PROJECTION = Projection("cli_moves", md, {"order.escalated": on_escalated})


async def cli(engine: AsyncEngine, *argv: str) -> tuple[int, Any, str]:
    """Run one command with --json; (exit status, parsed output, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    status = await run(["--json", *argv], settings, {PROJECTION.name: PROJECTION}, out, err)
    return status, json.loads(out.getvalue()) if out.getvalue() else None, err.getvalue()


async def total_moves(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return sum(r[0] for r in await conn.execute(select(moves.c.moves)))


async def test_every_command(engine: AsyncEngine) -> None:
    BROKEN["on"] = True
    store = store_for(engine)
    for i in range(60):
        await store.append(f"order-{i % 7}", [escalated(i)], None)
    boom = escalated(2)
    await store.append("order-boom", [escalated(0), escalated(1)], None)
    await store.append("order-boom", [boom.model_copy(update={"data": {**boom.data, "reason": "boom"}})], None)
    projector = Projector(engine, PROJECTION, store)
    await projector.setup()
    await StoreTail(store, projector).catch_up()

    status, stats, _ = await cli(engine, "stats")
    assert status == 0
    assert stats["events"] == 63 and stats["streams"] == 8 and stats["head_position"] == 63
    assert stats["types"] == {"order.escalated": 63}

    async with engine.begin() as conn:
        await upsert(conn, checkpoints, [{"name": "relay:service-orders.v1", "position": 40, "fingerprint": "",
                                          "updated_at": escalated().occurred_at}], ["name"])
    _, relay, _ = await cli(engine, "relay")
    assert (relay["position"], relay["head_position"], relay["lag_events"]) == (40, 63, 23)

    _, rows, _ = await cli(engine, "projections")
    assert [(r["projection"], r["lag_events"], r["streams_behind"], r["dead_letters"]) for r in rows] == [
        ("cli_moves", 0, 0, 1)]
    await store.append("order-late", [escalated(99)], None)
    _, rows, _ = await cli(engine, "projections")
    assert (rows[0]["lag_events"], rows[0]["streams_behind"]) == (1, 1)
    await StoreTail(store, projector).catch_up()

    _, letters, _ = await cli(engine, "dead-letters")
    assert [(d["stream_id"], d["version"], d["type"]) for d in letters] == [("order-boom", 3, "order.escalated")]
    assert "handler bug" in letters[0]["reason"]
    assert await total_moves(engine) == 63

    status, results, _ = await cli(engine, "retry", "--all")  # still broken: stays open, reason updated
    assert status == 1 and results[0]["resolved"] is False and "retry failed" in results[0]["reason"]
    _, letters, _ = await cli(engine, "dead-letters")
    assert len(letters) == 1

    BROKEN["on"] = False
    status, results, _ = await cli(engine, "retry", str(letters[0]["id"]))
    assert status == 0 and results[0]["resolved"] is True
    assert await total_moves(engine) == 64
    _, open_letters, _ = await cli(engine, "dead-letters")
    _, all_letters, _ = await cli(engine, "dead-letters", "--all")
    assert open_letters == [] and all_letters[0]["resolved_at"] is not None
    _, rows, _ = await cli(engine, "projections")
    assert rows[0]["dead_letters"] == 0

    async with engine.begin() as conn:  # damage the read model: a rebuild must restore it
        await conn.execute(moves.delete())
    status, result, err = await cli(engine, "rebuild", "cli_moves", "--batch", "10")
    assert status == 0 and result == {"projection": "cli_moves", "events": 64}
    assert "100.0%" in err and err.count("\r") >= 7  # one bar update per batch
    assert await total_moves(engine) == 64

    status, _, err = await cli(engine, "rebuild", "no-such-projection")
    assert status == 1 and "unknown projection" in err


async def test_module_entry_point_reads_database_url_from_settings(tmp_path: Any) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PYTHONPATH": os.getcwd()}
    engine = create_engine(env["DATABASE_URL"])
    await migrate(engine)
    await store_for(engine).append("order-1", [escalated()], None)
    await engine.dispose()
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "libs.events", "--json", "stats", env=env,
                                                 stdout=asyncio.subprocess.PIPE)
    stdout, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0 and json.loads(stdout)["events"] == 1


async def test_rebuild_needs_the_composition_root(tmp_path: Any) -> None:
    """The kernel's entry point knows no service: rebuild and retry name `python -m app.ops`,
    which runs the same command with every service's projections."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PYTHONPATH": os.getcwd()}
    engine = create_engine(env["DATABASE_URL"])
    await migrate(engine)
    await store_for(engine).append("order-1", [escalated()], None)
    await engine.dispose()
    kernel = await asyncio.create_subprocess_exec(sys.executable, "-m", "libs.events", "rebuild", "intake_orders",
                                                  env=env, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(kernel.communicate(), 60)
    assert kernel.returncode == 2 and b"python -m app.ops rebuild" in stderr
    ops = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.ops", "--json", "rebuild", "no-such",
                                               env=env, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(ops.communicate(), 60)
    assert ops.returncode == 1 and b"intake" in stderr  # lists the services' projections
