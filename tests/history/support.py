"""What the history tests share: the live fee standard every settlement scenario starts from."""

from __future__ import annotations

from typing import Any

from tests.settlement.factory import standard_body
from tests.support.app import auth


async def live_standard(api: Any) -> None:
    """Record the factory's per-order standard through the API, as finance would."""
    created = await api.client.post(
        "/settlement/standards", json=standard_body(), headers=auth("finance")
    )
    assert created.status_code == 201, created.text
