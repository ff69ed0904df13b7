"""Settlement as of a past position: a provider's ledger and monthly statement as they read then.

The settlement read model is rebuilt up to `as_of` into a scratch database
(`libs.events.history.ScratchCache`, shared per process, bounded) and the live queries run
against it unchanged, under the live routes' access rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.history import ScratchCache
from libs.web.deps import RuntimeDep
from libs.web.problems import Unprocessable
from libs.web.runtime import Runtime
from libs.web.scoping import maker_scope
from services.settlement import queries
from services.settlement.api.queries import LedgerReader, MonthQuery, _provider_only
from services.settlement.evidence import with_evidence
from services.settlement.projection import PROJECTION

router = APIRouter(tags=["history"])
CACHE_SIZE = 4  # scratch read models kept per process (each a full rebuild up to its position)
AsOfPosition = Annotated[int, Query(ge=0, description="a global position: the log's head then")]


def scratch_cache(runtime: Runtime) -> ScratchCache:
    """The process's cache of rebuilt read models (made on first use)."""
    cache = runtime.state.get("history.scratch")
    if not isinstance(cache, ScratchCache):
        cache = runtime.state["history.scratch"] = ScratchCache(runtime.store, CACHE_SIZE)
    return cache


async def settlement_as_of(runtime: Runtime, position: int) -> AsyncEngine:
    """The settlement read model as it stood when the log's head was `position`."""
    head = await runtime.store.head_position()
    if position > head:
        raise Unprocessable(
            "invalid field(s): as_of",
            errors=[
                {
                    "field": "as_of",
                    "message": f"is beyond the log's head ({head})",
                    "type": "value_error",
                }
            ],
        )
    return (await scratch_cache(runtime).get(PROJECTION, position)).engine


@router.get("/history/settlement/ledger/{provider}")
async def read_ledger_as_of(
    provider: str, as_of: AsOfPosition, runtime: RuntimeDep, principal: LedgerReader
) -> dict[str, Any]:
    """The provider's ledger as `GET /settlement/ledger/{provider}` answered at `as_of`."""
    _provider_only(principal, provider)
    engine = await settlement_as_of(runtime, as_of)
    entries = await queries.ledger_entries(engine, provider, maker_scope(principal))
    return {
        "provider_id": provider,
        "entries": entries,
        "balance_fen": entries[-1]["balance_fen"] if entries else 0,
        **await runtime.completeness(PROJECTION.name),
    }


@router.get(
    "/history/settlement/statements/{provider}", response_model=None
)  # encoded as the live route
async def read_statement_as_of(
    provider: str,
    month: MonthQuery,
    as_of: AsOfPosition,
    runtime: RuntimeDep,
    principal: LedgerReader,
    evidence: Annotated[bool, Query(description="the events behind every figure")] = False,
) -> dict[str, Any]:
    """The provider's monthly statement (JSON) as it read when the log's head was `as_of`."""
    _provider_only(principal, provider)
    engine = await settlement_as_of(runtime, as_of)
    body = await queries.statement(engine, provider, month, maker_scope(principal))
    # Conservative: a dead letter anywhere in the log marks the past answer incomplete too.
    body = {**body, **await runtime.completeness(PROJECTION.name)}
    if not evidence:
        return body
    return with_evidence(
        body, await queries.ledger_entries(engine, provider, maker_scope(principal), month)
    )
