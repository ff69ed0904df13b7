"""The receipts day job (app/receipts.py) runs with the API role and signs the day that ended
when the injected clock crosses UTC midnight — not before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import receipts
from libs.events.receipt_store import list_receipts
from tests.dispatch.factory import report
from tests.support.app import auth, running_api

pytestmark = pytest.mark.integration


def _pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


async def test_the_day_change_by_the_manual_clock_issues_the_receipt_of_the_day_that_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(receipts, "RECHECK", 0.2)  # a manual clock jumps: re-read it soon
    async with running_api(f"sqlite:///{tmp_path / 'api.db'}", receipt_signing_key=_pem()) as api:
        api.clock.set(datetime(2026, 5, 31, 23, 59, 59, 500000, tzinfo=UTC))
        await report(api.runtime.store, api.clock())
        await asyncio.sleep(0.5)
        assert await list_receipts(api.runtime.engine) == []  # not before midnight
        api.clock.set(datetime(2026, 6, 1, 0, 0, 5, tzinfo=UTC))
        for _ in range(100):
            issued = await list_receipts(api.runtime.engine)
            if len(issued) == 2:
                break
            await asyncio.sleep(0.05)
    assert sorted((r["kind"], r["period"]) for r in issued) == [("day", "2026-05-31"), ("month", "2026-05")]


async def test_closing_a_quality_month_issues_that_months_receipt(tmp_path: Path) -> None:
    async with running_api(f"sqlite:///{tmp_path / 'api.db'}", receipt_signing_key=_pem()) as api:
        await report(api.runtime.store, api.clock())
        assert await list_receipts(api.runtime.engine) == []
        closed = await api.client.post("/quality/months/2026-04/close", headers=auth("supervisor"))
        assert closed.status_code == 201, closed.text
        issued = await list_receipts(api.runtime.engine)
    assert [(r["kind"], r["period"]) for r in issued] == [("month", "2026-04")]
