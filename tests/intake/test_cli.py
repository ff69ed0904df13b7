"""The operator command creates a partner whose printed key works against the API."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from services.intake.cli import main
from tests.intake.support import PUBLISHED
from tests.support.app import running_api

pytestmark = pytest.mark.integration


async def test_partners_create_prints_a_key_that_authenticates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    args = ["partners", "create", "--id", "gome", "--name", "国美", "--webhook", "https://gome.example/hooks"]
    assert await asyncio.to_thread(main, args) == 0
    stdout = capsys.readouterr().out
    key = re.search(r"api key:\s+(\S+)", stdout)
    secret = re.search(r"webhook secret:\s+(whsec_\S+)", stdout)
    assert key and secret, stdout
    async with running_api(url) as api:
        bearer = {"Authorization": f"Bearer {key[1]}"}
        created = await api.client.post("/orders", json=PUBLISHED, headers=bearer)
        assert created.status_code == 201
        await api.sync()  # the link waits 2 s for the read model, then 503s: under load it may not be there yet
        order = await api.client.get(created.json()["status_url"], headers=bearer)
        assert order.status_code == 200, order.text
        assert order.json()["timeline"][0]["actor"] == "partner:gome"
    assert await asyncio.to_thread(main, ["partners", "webhook", "--id", "gome", "--clear"]) == 0
    assert "removed" in capsys.readouterr().out
