"""`python -m app.principals`: every principal kind from a shell, on the same functions as /admin."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from app.principals import main
from tests.support.app import running_api


async def test_create_rotate_revoke_a_supervisor_and_a_platform(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["create", "--id", "sup-m", "--role", "supervisor", "--name", "美的监督", "--party", "midea"]
    assert await asyncio.to_thread(main, args, url) == 0
    key = re.search(r"api key (\S+)", capsys.readouterr().out)
    assert key
    assert await asyncio.to_thread(main, ["create", "--id", "plat", "--role", "platform", "--name", "P"], url) == 0
    assert re.search(r"hmac secret: (\S+)", capsys.readouterr().out)
    async with running_api(url) as api:
        answer = await api.client.get("/quality/rankings?month=2026-05", headers={"Authorization": f"Bearer {key[1]}"})
        assert answer.status_code not in (401, 403), answer.text
    assert await asyncio.to_thread(main, ["rotate", "--id", "sup-m"], url) == 0
    new = re.search(r"new api key (\S+)", capsys.readouterr().out)
    assert new and new[1] != key[1]
    assert await asyncio.to_thread(main, ["secret", "--id", "plat", "--overlap-hours", "1"], url) == 0
    assert await asyncio.to_thread(main, ["revoke", "--id", "sup-m"], url) == 0
    assert await asyncio.to_thread(main, ["revoke", "--id", "sup-m"], url) == 1
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["events", "--id", "sup-m"], url) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["action"], e["actor"]) for e in events] == [("created", "cli"), ("rotated", "cli"), ("revoked", "cli")]
    assert await asyncio.to_thread(main, ["list"], url) == 0
    listed = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert "plat" in listed and "sup-m" not in listed
