"""The operator command creates a partner whose printed key works against the API."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.intake.support import PUBLISHED
from tests.support.app import running_api

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _cli(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "services.intake", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout


async def test_partners_create_prints_a_key_that_authenticates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    stdout = await asyncio.to_thread(_cli, url, "partners", "create", "--id", "gome", "--name", "国美",
                                     "--webhook", "https://gome.example/hooks")
    key = re.search(r"api key:\s+(\S+)", stdout)
    secret = re.search(r"webhook secret:\s+(whsec_\S+)", stdout)
    assert key and secret, stdout
    async with running_api(url) as api:
        created = await api.client.post("/orders", json=PUBLISHED, headers={"Authorization": f"Bearer {key[1]}"})
        assert created.status_code == 201
        order = (await api.client.get(created.json()["status_url"], headers={"Authorization": f"Bearer {key[1]}"}))
        assert order.json()["timeline"][0]["actor"] == "partner:gome"
