"""Every durable table is under Alembic: migrations build exactly the models, upgrade a
database of the previous release with its data, and go back down."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from app.durable import durable_metadata
from bench.servers import create_database, drop_database
from libs.events.db import MIGRATIONS, create_engine, downgrade, migrate, schema_revision
from libs.events.store import store_for
from libs.web import auth
from services.settlement.reference import fee_standards
from tests.conftest import _unavailable
from tests.factories import escalated

pytestmark = pytest.mark.integration
HEAD = "0007_status_links"
PREVIOUS_RELEASE_CREATE_ALL = (
    "principals", "intake_platform_nonces", "intake_partner_secrets", "intake_webhook_cursor",
    "intake_webhook_deliveries", "dispatch_outlets", "dispatch_sla_policies", "settlement_fee_standards",
)
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def blank(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own on each backend (these tests drop tables: never the shared one)."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'blank.db'}")
        yield made
        await made.dispose()
        return
    try:
        url = await create_database()
    except Exception as exc:  # as tests/conftest.py: a failure in CI, a skip on a laptop without one
        _unavailable("PostgreSQL", exc)
    made = create_engine(url)
    try:
        yield made
    finally:
        await made.dispose()
        await drop_database(url)


def _differences(sync: sa.Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), durable_metadata()))


async def differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_differences)


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


def test_the_registry_holds_every_durable_table_and_no_read_model() -> None:
    names = set(durable_metadata().tables)
    assert names == {
        "events", "checkpoints", "stream_checkpoints", "dead_letters", "principals",
        "intake_platform_nonces", "intake_partner_secrets", "intake_webhook_cursor", "intake_webhook_deliveries",
        "dispatch_outlets", "dispatch_sla_policies", "settlement_fee_standards", "receipts",
        "notifications", "notify_opt_outs", "principal_key_events", "platform_secrets",
        "subject_keys", "subject_erasures", "personal_access",
        "notify_link_opens", "notify_link_revocations",
    }


async def test_migrations_build_exactly_the_models(blank: AsyncEngine) -> None:
    engine = blank
    await migrate(engine)
    assert await schema_revision(engine) == HEAD
    assert await differences(engine) == []  # what `alembic revision --autogenerate` would find


async def test_a_database_of_the_previous_release_upgrades_with_its_data(blank: AsyncEngine) -> None:
    engine = blank
    # The previous release: revision 0001, and every other durable table made by create_all at start-up.
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_to, "0001")
        models = durable_metadata()
        made_at_start_up = [models.tables[name] for name in PREVIOUS_RELEASE_CREATE_ALL]
        await conn.run_sync(lambda sync: models.create_all(sync, tables=made_at_start_up))
    key = "previous-release-key"  # a key as that release stored it: the principals row alone
    async with engine.begin() as conn:
        await conn.execute(auth.principals.insert().values(
            key_hash=auth.hash_key(key), id="jd", role="partner", name="JD", party="jd", created_at=NOW))
    await store_for(engine).append("order-1", [escalated(1)], 0)
    async with engine.begin() as conn:
        await conn.execute(fee_standards.insert().values(
            standard_id="gree:*:v1", maker="gree", provider_id="*", seq=1, effective_from=date(2026, 1, 1),
            kind="flat", body={"fen": 100}, recorded_at=NOW, recorded_by="finance:f"))
    assert await schema_revision(engine) == "0001"

    await migrate(engine)

    assert await schema_revision(engine) == HEAD
    assert await differences(engine) == []
    found = await auth.find_principal(engine, key)
    assert found is not None and found.id == "jd"
    assert [e.version for e in await store_for(engine).read_stream("order-1")] == [1]
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(fee_standards.c.standard_id))).scalars().all() == ["gree:*:v1"]


async def test_downgrade_to_base_and_up_again(blank: AsyncEngine) -> None:
    engine = blank
    await migrate(engine)
    await downgrade(engine, "0001")
    assert await schema_revision(engine) == "0001"
    assert "principals" not in await tables(engine) and "events" in await tables(engine)
    await downgrade(engine, "base")
    assert await tables(engine) <= {"alembic_version"}
    await migrate(engine)
    assert await differences(engine) == []


def test_the_cli_migrates_and_downgrades(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": os.getcwd()}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "libs.events", *args], env=env, capture_output=True,
                              text=True, timeout=120, check=True)
        return done.stdout.strip()

    assert run("migrate") == f"schema at revision {HEAD}"
    assert run("downgrade") == "schema at revision 0006_personal"
    assert run("downgrade", "base") == "schema at revision base (empty)"


def _upgrade_to(sync: sa.Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = sync
    command.upgrade(cfg, revision)


def test_migrations_are_written_history_not_the_live_models() -> None:
    """0003 built its table from the live `receipts` model, so changing the model would have
    changed what an old revision creates. A revision may import column types, never tables."""
    import ast

    allowed = {"sqlalchemy", "sqlalchemy.dialects", "alembic", "libs.events.schema"}
    for path in sorted((Path(MIGRATIONS) / "versions").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module in allowed, f"{path.name} imports {node.module}"
                if node.module == "libs.events.schema":
                    assert {a.name for a in node.names} <= {"UTCDateTime", "Json", "Position"}, f"{path.name}: {ast.dump(node)}"
            elif isinstance(node, ast.Import):
                assert all(a.name in allowed for a in node.names), f"{path.name}: {ast.dump(node)}"
