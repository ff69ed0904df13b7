"""Idempotency-Key answers, stored durably per partner.

The order and event ids are derived from (partner, key), so a retry — even one racing
the first request, or following a crash between append and remember — appends nothing
new: the store recognises the event id. The first stored answer wins; a different body
under the same key is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from libs.events.db import reader
from libs.events.envelope import canonical_json
from libs.web.runtime import Runtime
from services.intake.tables import idempotency


@dataclass(frozen=True)
class Answer:
    body_hash: str
    status_code: int
    response: dict[str, Any]


def body_hash(body: dict[str, Any]) -> str:
    """Hash of the parsed body: whitespace and key order do not make a different request."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


async def recall(runtime: Runtime, partner_id: str, key: str) -> Answer | None:
    async with reader(runtime.engine).connect() as conn:
        row = (await conn.execute(
            select(idempotency.c.body_hash, idempotency.c.status_code, idempotency.c.response)
            .where(idempotency.c.partner_id == partner_id, idempotency.c.key == key)
        )).first()
    return Answer(row[0], row[1], dict(row[2])) if row else None


async def remember(runtime: Runtime, partner_id: str, key: str, answer: Answer) -> Answer:
    """Store the answer unless one is already stored; returns the one that counts."""
    dialect = postgresql if runtime.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(idempotency).values(
        partner_id=partner_id, key=key, body_hash=answer.body_hash, status_code=answer.status_code,
        response=answer.response, created_at=runtime.clock(),
    ).on_conflict_do_nothing(index_elements=["partner_id", "key"])
    async with runtime.engine.begin() as conn:
        inserted = (await conn.execute(stmt)).rowcount
    if inserted:
        return answer
    stored = await recall(runtime, partner_id, key)
    return stored or answer
