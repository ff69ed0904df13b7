"""The admin API for principals: keys shown once and stored hashed, rotation, revocation,
platform secrets with a changeover, scoping fields, and the audit trail of key events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from libs.web import auth

ADMIN = {"Authorization": "Bearer demo-admin-key"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_admin_creates_a_scoped_dispatcher_whose_key_works_once_shown(api: Any) -> None:
    made = await api.client.post("/admin/principals", headers=ADMIN, json={
        "id": "desk-2", "role": "dispatcher", "name": "Desk 2", "party": "gree", "makers": ["midea"]})
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("ak_") and made.json()["secret"] is None
    async with api.runtime.engine.connect() as conn:
        stored = (await conn.execute(select(auth.principals).where(auth.principals.c.id == "desk-2"))).mappings().one()
    assert stored["key_hash"] == auth.hash_key(key) and key not in str(dict(stored))
    listed = (await api.client.get("/admin/principals", headers=ADMIN)).json()
    entry = next(p for p in listed if p["id"] == "desk-2")
    assert entry["scopes"] == ["gree", "midea"] and "key" not in entry and "key_hash" not in entry
    assert (await api.client.get("/dispatch/overdue", headers=bearer(key))).status_code == 200
    again = await api.client.post("/admin/principals", headers=ADMIN, json={
        "id": "desk-2", "role": "dispatcher", "name": "Desk 2", "party": "gree"})
    assert again.status_code == 409


async def test_rotate_and_revoke_take_effect_at_once_and_are_audited(api: Any) -> None:
    made = (await api.client.post("/admin/principals", headers=ADMIN, json={
        "id": "tech-9", "role": "technician", "name": "王师傅", "party": "prov-wuhan", "outlet_id": "wh-01"})).json()
    old = made["key"]
    assert (await api.client.get("/dispatch/outlets", headers=bearer(old))).status_code == 200  # and now cached
    rotated = await api.client.post("/admin/principals/tech-9/keys", headers=ADMIN)
    assert rotated.status_code == 201
    new = rotated.json()["key"]
    assert (await api.client.get("/dispatch/outlets", headers=bearer(old))).status_code == 401
    assert (await api.client.get("/dispatch/outlets", headers=bearer(new))).status_code == 200
    assert (await api.client.delete("/admin/principals/tech-9", headers=ADMIN)).status_code == 204
    assert (await api.client.get("/dispatch/outlets", headers=bearer(new))).status_code == 401
    assert (await api.client.delete("/admin/principals/tech-9", headers=ADMIN)).status_code == 404
    events = (await api.client.get("/admin/key-events?principal_id=tech-9", headers=ADMIN)).json()
    assert [e["action"] for e in events] == ["created", "rotated", "revoked"]
    assert {e["actor"] for e in events} == {"admin:admin"}
    assert all(old not in str(e) and new not in str(e) for e in events)
    assert events[0]["fingerprint"] == auth.hash_key(old)[:16]


async def test_a_platform_secret_changeover_keeps_two_valid_then_one(api: Any) -> None:
    made = (await api.client.post("/admin/principals", headers=ADMIN, json={
        "id": "12345-platform", "role": "platform", "name": "12345 热线"})).json()
    first = made["secret"]
    assert first and (await auth.platform_secrets(api.runtime.engine, "12345-platform", api.clock())) == [first]
    rotated = await api.client.post("/admin/platforms/12345-platform/secrets", headers=ADMIN,
                                    json={"overlap_seconds": 3600})
    second = rotated.json()["secret"]
    now = api.clock()
    assert await auth.platform_secrets(api.runtime.engine, "12345-platform", now) == [second, first]
    later = now + timedelta(seconds=3601)
    assert await auth.platform_secrets(api.runtime.engine, "12345-platform", later) == [second]
    assert (await api.client.post("/admin/platforms/desk-x/secrets", headers=ADMIN, json={})).status_code == 404
    assert (await api.client.delete("/admin/principals/12345-platform", headers=ADMIN)).status_code == 204
    assert await auth.platform_secrets(api.runtime.engine, "12345-platform", now) == []
    actions = [e["action"] for e in (await api.client.get("/admin/key-events?principal_id=12345-platform",
                                                          headers=ADMIN)).json()]
    assert actions[:3] == ["created", "secret_added", "secret_added"] and actions[-1] == "revoked"


async def test_only_admin_manages_principals_and_bad_input_names_the_field(api: Any) -> None:
    body = {"id": "x1", "role": "partner", "name": "X"}
    for who in ("operator", "viewer", "dispatcher", "partner", "supervisor"):
        key = {"operator": "demo-operator-key", "viewer": "demo-viewer-key"}.get(who, f"demo-{who}-key")
        assert (await api.client.post("/admin/principals", headers=bearer(key), json=body)).status_code == 403
        assert (await api.client.get("/admin/principals", headers=bearer(key))).status_code == 403
    bad = await api.client.post("/admin/principals", headers=ADMIN, json={**body, "role": "root"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "role"
    unscoped = await api.client.post("/admin/principals", headers=ADMIN,
                                     json={"id": "fin-x", "role": "finance", "name": "F"})
    assert unscoped.status_code == 422 and unscoped.json()["errors"][0]["field"] == "party"
    limit = await api.client.post("/admin/principals", headers=ADMIN, json={**body, "rate_limit": "lots"})
    assert limit.status_code == 422 and limit.json()["errors"][0]["field"] == "rate_limit"
    assert not [p for p in (await api.client.get("/admin/principals", headers=ADMIN)).json() if p["id"] in
                ("x1", "fin-x")]


async def test_a_principals_table_from_before_gets_the_new_columns(tmp_path: Any) -> None:
    """A database made by the previous release (no scopes, outlet, limit, revocation) still starts."""
    from sqlalchemy import text

    from libs.events.db import create_engine, migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE principals (key_hash VARCHAR(64) PRIMARY KEY, id VARCHAR(100) NOT NULL,"
                                " role VARCHAR(20) NOT NULL, name VARCHAR(200) NOT NULL, party VARCHAR(100) NOT NULL,"
                                " webhook_url VARCHAR(500), created_at VARCHAR(40) NOT NULL)"))
        await conn.execute(text("INSERT INTO principals VALUES (:h, 'gome', 'partner', 'g', 'gome', NULL,"
                                " '2026-01-01T00:00:00+00:00')"), {"h": auth.hash_key("old-key")})
    await migrate(engine)  # the release's migrations adopt the table and add its columns
    found = await auth.find_principal(engine, "old-key")
    await engine.dispose()
    assert found is not None and found.id == "gome" and found.scopes == () and found.rate_limit is None


async def test_a_revocation_reaches_another_process_within_seconds(tmp_path: Any) -> None:
    """Two API processes on one database: a key revoked through one stops working in the other
    within a couple of seconds, although the other had it cached (KEY_TTL is 30 s)."""
    import asyncio
    import time

    from tests.support.app import running_api

    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    async with running_api(url) as here, running_api(url) as there:
        made = (await here.client.post("/admin/principals", headers=ADMIN, json={
            "id": "desk-7", "role": "dispatcher", "name": "Desk 7", "party": "gree"})).json()
        key = bearer(made["key"])
        assert (await there.client.get("/dispatch/overdue", headers=key)).status_code == 200  # cached there now
        assert (await here.client.delete("/admin/principals/desk-7", headers=ADMIN)).status_code == 204
        started = time.monotonic()
        while (await there.client.get("/dispatch/overdue", headers=key)).status_code == 200:
            assert time.monotonic() - started < 5, "the other process still admits a revoked key"
            await asyncio.sleep(0.1)
        assert (await there.client.get("/dispatch/overdue", headers=key)).status_code == 401
