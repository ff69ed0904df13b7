"""`python -m libs.events receipt ...` end to end, and where the signing key comes from."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from sqlalchemy import text

from libs.events.cli import run
from libs.events.db import create_engine, migrate
from libs.events.receipt_keys import SigningKeyError, private_pem, public_pem, signing_key
from libs.events.settings import Settings
from libs.events.store import store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration


async def _cli(settings: Settings, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await run(["receipt", *argv], settings, projections={}, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def test_issue_show_verify_and_a_party_bundle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(private_pem(Ed25519PrivateKey.generate()))
    settings = Settings(database_url=url, demo=False, receipt_signing_key_file=str(key_file),
                        platform_secret=SecretStr("p" * 40), intake_id_key=SecretStr("i" * 40))
    engine = create_engine(url)
    await migrate(engine)
    store = store_for(engine)
    for n in range(3):
        await store.append(f"order-{n}", [escalated(1), escalated(2)], 0)

    status, out, _ = await _cli(settings, "issue", "--kind", "day", "--period", "2026-05-04")
    issued = json.loads(out)
    assert status == 0 and issued["stream_count"] == 3 and issued["head_position"] == 6
    assert (await _cli(settings, "issue", "--kind", "day"))[0] == 2
    status, out, _ = await _cli(settings, "show")
    assert status == 0 and json.loads(out)["root"] == issued["root"]
    assert json.loads((await _cli(settings, "list"))[1])[0]["period"] == "2026-05-04"
    assert json.loads((await _cli(settings, "verify"))[1])["problems"] == []

    status, out, _ = await _cli(
        settings, "show", str(issued["id"]), "--streams", "order-1", "order-2"
    )
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_text(out)
    pem_file = tmp_path / "public.pem"
    pem_file.write_text((await _cli(settings, "public-key"))[1])
    verified = await _cli(
        settings, "verify", "--bundle", str(bundle_file), "--public-key", str(pem_file)
    )
    assert verified[0] == 0 and json.loads(verified[1]) == {"proofs": 2, "problems": []}
    forged = json.loads(out)
    forged["proofs"][0]["hash"] = "0" * 64
    bundle_file.write_text(json.dumps(forged))
    assert (
        await _cli(settings, "verify", "--bundle", str(bundle_file), "--public-key", str(pem_file))
    )[0] == 1
    bundle_file.write_text("{}")
    assert (await _cli(settings, "verify", "--bundle", str(bundle_file)))[0] == 2

    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE stream_id = 'order-2' AND version = 2"))
    status, out, _ = await _cli(settings, "verify")
    assert status == 1 and json.loads(out)["problems"] == [
        "stream order-2: receipted at version 2, the store has only 1"
    ]
    assert (await _cli(settings, "show", "99"))[0] == 1
    await engine.dispose()


def test_key_from_pem_setting_or_file_and_none_outside_the_demo(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = private_pem(key)
    from_env = signing_key(Settings(demo=False, receipt_signing_key=SecretStr(pem.decode())))
    assert public_pem(from_env.public_key()) == public_pem(key.public_key())
    (tmp_path / "k.pem").write_bytes(pem)
    from_file = signing_key(Settings(demo=False, receipt_signing_key_file=str(tmp_path / "k.pem")))
    assert public_pem(from_file.public_key()) == public_pem(key.public_key())
    with pytest.raises(SigningKeyError, match="RECEIPT_SIGNING_KEY"):
        signing_key(Settings(demo=False), demo_file=tmp_path / "never.pem")
    assert not (tmp_path / "never.pem").exists()
    with pytest.raises(SigningKeyError):
        signing_key(Settings(demo=False, receipt_signing_key=SecretStr("not a pem")))
    with pytest.raises(SigningKeyError):
        signing_key(Settings(demo=False, receipt_signing_key_file=str(tmp_path / "missing.pem")))


def test_demo_generates_one_key_on_first_run_and_keeps_it(tmp_path: Path) -> None:
    demo_file = tmp_path / "data" / "receipt-signing-key.pem"
    first = signing_key(Settings(demo=True), demo_file=demo_file)
    again = signing_key(Settings(demo=True), demo_file=demo_file)
    assert public_pem(first.public_key()) == public_pem(again.public_key())
    assert os.stat(demo_file).st_mode & 0o777 == 0o600
    assert [p.name for p in demo_file.parent.iterdir()] == ["receipt-signing-key.pem"]
