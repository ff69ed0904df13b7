"""Access log, retention, export and plain-text detection, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from libs.events.personal.access import list_access, record_access
from libs.events.personal.errors import PersonalConfigError, PlaintextStore
from libs.events.personal.export import export_subject
from libs.events.personal.legacy import (
    CONVERT_COMMAND,
    detect_plaintext,
    ensure_no_plaintext,
    refusal_message,
)
from libs.events.personal.masking import ERASED
from libs.events.personal.retention import (
    Closing,
    apply_retention,
    due_for_erasure,
    parse_policy,
    years_before,
)
from tests.personal.support import CUSTOMER, PHONE, T0, reported, sealed_store, vault


async def test_access_log_lists_by_subject_principal_and_time(engine: AsyncEngine) -> None:
    for n, (who, subject) in enumerate([("technician:t1", "ds_a"), ("partner:jd", "ds_a"),
                                        ("technician:t1", "ds_b")]):
        await record_access(engine, who, subject, f"order-{n}", "GET /orders/{id}",
                            T0 + timedelta(minutes=n))
    everything = await list_access(engine)
    assert [(r.principal, r.subject_id, r.order_id) for r in everything] == [
        ("technician:t1", "ds_a", "order-0"), ("partner:jd", "ds_a", "order-1"),
        ("technician:t1", "ds_b", "order-2")]
    assert everything[0].at == T0 and everything[0].purpose == "GET /orders/{id}"
    assert [r.order_id for r in await list_access(engine, subject="ds_a")] == ["order-0", "order-1"]
    assert [r.order_id for r in await list_access(engine, principal="technician:t1")] == [
        "order-0", "order-2"]
    window = await list_access(engine, since=T0 + timedelta(minutes=1),
                               until=T0 + timedelta(minutes=2))
    assert [r.order_id for r in window] == ["order-1"]
    first = await list_access(engine, limit=2)
    rest = await list_access(engine, after_id=first[-1].id)
    assert [r.order_id for r in first + rest] == ["order-0", "order-1", "order-2"]
    with pytest.raises(ValueError, match="principal, subject and purpose"):
        await record_access(engine, "technician:t1", "ds_a", None, "", T0)


NOW = datetime(2030, 6, 1, tzinfo=UTC)


def test_due_for_erasure_table() -> None:
    policy = {"gree": 3, "midea": 5}
    old, recent = datetime(2027, 5, 31, tzinfo=UTC), datetime(2027, 6, 2, tzinfo=UTC)
    closings = [
        Closing("ds_old", "gree", old), Closing("ds_old", "gree", old - timedelta(days=400)),
        Closing("ds_recent", "gree", old), Closing("ds_recent", "gree", recent),
        Closing("ds_open", "gree", old), Closing("ds_open", "gree", None),
        Closing("ds_midea", "midea", old),           # five years for midea: kept
        Closing("ds_nopolicy", "haier", datetime(2000, 1, 1, tzinfo=UTC)),
    ]
    assert due_for_erasure(closings, policy, NOW) == ["ds_old"]
    assert due_for_erasure(closings, {}, NOW) == []


def test_years_before_and_policy() -> None:
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert years_before(leap, 3) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert parse_policy('{"gree": 3}') == {"gree": 3}
    assert parse_policy("  ") == {}
    for bad in ("{", '{"gree": 0}', '{"gree": "3"}', '{"gree": true}', "[3]"):
        with pytest.raises(PersonalConfigError, match="PERSONAL_RETENTION_YEARS"):
            parse_policy(bad)


async def test_retention_erases_due_subjects_once(engine: AsyncEngine) -> None:
    v = vault(engine, ManualClock(NOW))
    due, kept = v.subject("gree", PHONE), v.subject("gree", "13900139000")
    env_due, env_kept = await v.seal(CUSTOMER, due), await v.seal(CUSTOMER, kept)
    closings = [Closing(due, "gree", datetime(2026, 1, 1, tzinfo=UTC)),
                Closing(kept, "gree", datetime(2029, 1, 1, tzinfo=UTC))]
    done = await apply_retention(v, closings, {"gree": 3}, NOW)
    assert [(e.subject_id, e.actor) for e in done] == [(due, "system:retention")]
    assert (await v.open(env_due)).erased and not (await v.open(env_kept)).erased
    assert await apply_retention(v, closings, {"gree": 3}, NOW) == []  # rerun: nothing new
    assert len(await v.keys.erasures(due)) == 1


async def test_export_opens_every_envelope_and_lists_erasures(engine: AsyncEngine) -> None:
    clock = ManualClock(T0)
    v = vault(engine, clock)
    subject = v.subject("gree", PHONE)
    env = await v.seal(CUSTOMER, subject)
    asked: list[str] = []

    async def orders(s: str) -> Any:
        asked.append(s)
        return [{"order_id": "order-1", "customer": env, "status": "closed"}]

    async def reviews(s: str) -> Any:
        return [{"order_id": "order-1", "stars": 5}]

    out = await export_subject(v, subject, {"orders": orders, "reviews": reviews})
    assert asked == [subject]
    assert out["subject"] == subject and out["erased"] is False and out["erasures"] == []
    assert out["sections"] == {
        "orders": [{"order_id": "order-1", "customer": CUSTOMER, "status": "closed"}],
        "reviews": [{"order_id": "order-1", "stars": 5}]}
    json.dumps(out, ensure_ascii=False)  # JSON as it is

    clock.advance(hours=1)
    await v.erase(subject, "privacy:dpo", "asked")
    after = await export_subject(v, subject, {"orders": orders})
    assert after["erased"] is True
    assert after["sections"]["orders"][0]["customer"]["phone"] == ERASED
    assert after["erasures"] == [{"at": "2026-05-04T09:00:00+00:00", "actor": "privacy:dpo",
                                  "reason": "asked"}]


async def test_detect_plaintext_finds_clear_customers_only(engine: AsyncEngine) -> None:
    v = vault(engine)
    store = sealed_store(engine)
    await ensure_no_plaintext(store)  # an empty store is clean
    await store.append("order-sealed", [reported(await v.seal(CUSTOMER, v.subject("gree", PHONE)))],
                       0)
    assert (await detect_plaintext(store)).clean
    await store.append("order-old-1", [reported(dict(CUSTOMER), 1)], 0)
    await store.append("order-old-2", [reported(dict(CUSTOMER), 2)], 0)
    found = await detect_plaintext(store)
    assert (found.events, found.streams) == (2, ["order-old-1", "order-old-2"])
    assert found.scanned_to == await store.head_position()
    first = await detect_plaintext(store, stop_at_first=True)
    assert (first.events, first.streams) == (1, ["order-old-1"])
    resumed = await detect_plaintext(store, after_position=first.scanned_to)
    assert resumed.streams == ["order-old-2"]

    message = refusal_message(found)
    assert CONVERT_COMMAND in message and "order-old-1" in message and "2 order.reported" in message
    for value in ("张伟", PHONE, "珞喻路"):
        assert value not in message
    with pytest.raises(PlaintextStore, match="refusing to start"):
        await ensure_no_plaintext(store)
