"""What the intake routes share: the partner dependency, China days, the timeline view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from libs.events.envelope import StoredEvent
from libs.web.auth import Principal
from libs.web.deps import authenticate
from libs.web.problems import Forbidden
from services.intake.api.schemas import TimelineEntry


async def partner(request: Request) -> Principal:
    """Partners (and operators) only, as `require("partner")` does (one dependency level, see
    `libs.web.deps.authenticate`)."""
    principal = await authenticate(request, request.headers.get("authorization"))
    if principal.role not in ("partner", "operator"):
        raise Forbidden(f"role {principal.role!r} may not do this; needs one of partner")
    return principal


PartnerDep = Annotated[Principal, Depends(partner)]


def timeline(history: Sequence[StoredEvent]) -> list[TimelineEntry]:
    return [
        TimelineEntry(version=e.version, position=e.position, type=e.type, occurred_at=e.occurred_at,
                      recorded_at=e.recorded_at, actor=e.actor, source=e.source, data=e.data)
        for e in history
    ]
