"""Demo is opt-in: demo keys only with DEMO=true, gone on a start without it, and no process
but the demo starts with a default or published secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.main import create_app
from libs.events.settings import Settings
from libs.web.auth import create_principal
from tests.support.app import running_api

REAL = SecretStr("k3Lr0-an-actual-secret-from-the-store")
ID_KEY = SecretStr("Vb7-another-secret-from-the-store")


def test_the_default_is_not_the_demo() -> None:
    assert Settings.model_fields["demo"].default is False


@pytest.mark.parametrize("settings", [
    Settings(demo=False),  # platform_secret left at demo-platform-secret
    Settings(demo=False, platform_secret=SecretStr("change-me-platform-secret")),
    Settings(demo=False, platform_secret=REAL, intake_id_key=ID_KEY,
             database_url="postgresql://aftersales:change-me@db/aftersales"),
    Settings(demo=False, platform_secret=REAL),  # no INTAKE_ID_KEY: order ids would be guessable
    Settings(demo=False, platform_secret=REAL, intake_id_key=SecretStr("change-me")),
    Settings(demo=False, platform_secret=REAL, intake_id_key=ID_KEY, quality_sample_key=SecretStr("change-me")),
])
def test_a_non_demo_process_refuses_published_secrets(settings: Settings) -> None:
    with pytest.raises(SystemExit, match="refusing to start without DEMO=true"):
        settings.check_secrets()


def test_real_secrets_or_the_demo_start() -> None:
    Settings(demo=False, platform_secret=REAL, intake_id_key=ID_KEY,
             database_url="postgresql://app:Zq8-real@db/aftersales").check_secrets()
    Settings(demo=False, platform_secret=REAL, intake_id_key=ID_KEY).check_secrets()  # SQLite: no password
    Settings(demo=True).check_secrets()


async def test_an_app_started_any_way_refuses_published_secrets(tmp_path: Path) -> None:
    """`python -m app` checked the secrets; `uvicorn app.main:create_app --factory` (or any other
    server given the app) started on the published ones."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", demo=False))
    with pytest.raises(SystemExit, match="refusing to start without DEMO=true"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_start_without_demo_removes_the_demo_keys_and_keeps_real_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    async with running_api(url) as api:  # demo=True: the demo keys exist
        real = await create_principal(api.runtime.engine, api.clock, id="gome", role="partner", name="国美")
        await create_principal(api.runtime.engine, api.clock, id="dealer-x", role="partner", name="x",
                               key="demo-dealer-x-key", actor="demo")  # as `make demo` adds them
        assert (await api.client.get("/orders", headers={"Authorization": "Bearer demo-partner-key"})).status_code == 200
    app = create_app(Settings(database_url=url, demo=False, platform_secret=REAL, intake_id_key=ID_KEY))
    async with app.router.lifespan_context(app):  # as uvicorn starts it
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for key in ("demo-partner-key", "demo-operator-key", "demo-admin-key", "demo-dealer-x-key"):
                answer = await client.get("/orders", headers={"Authorization": f"Bearer {key}"})
                assert answer.status_code == 401, key
            assert (await client.get("/orders", headers={"Authorization": f"Bearer {real}"})).status_code == 200
            assert 'data-demo-key=""' in (await client.get("/")).text


async def test_the_page_pre_fills_only_a_key_that_cannot_write(sqlite_api: Any) -> None:
    api = sqlite_api
    page = await api.client.get("/")
    key = page.text.split('data-demo-key="', 1)[1].split('"', 1)[0]
    assert key
    headers = {"Authorization": f"Bearer {key}"}
    assert (await api.client.get("/dispatch/overdue", headers=headers)).status_code == 200
    for method, path in (("POST", "/orders"), ("POST", "/dispatch/outlets"), ("PUT", "/quality/policies/gree"),
                         ("POST", "/settlement/standards"), ("POST", "/admin/principals")):
        answer = await api.client.request(method, path, headers=headers, json={})
        assert answer.status_code == 403, (method, path, answer.text)


def test_only_a_process_verifying_platforms_needs_the_platform_secret() -> None:
    for role, services in (("api", "dispatch"), ("projector", "intake"), ("relay", ""), ("gateway", "")):
        Settings(demo=False, role=role, services=services).check_secrets()  # no PLATFORM_SECRET: fine
    with pytest.raises(SystemExit, match="PLATFORM_SECRET"):
        Settings(demo=False, role="api", services="intake").check_secrets()
