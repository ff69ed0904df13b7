"""Quality's use cases: a review, a complaint, a maker's policy, closing a month. Each goes
through libs.events.command.execute (a race with another writer is decided again). No FastAPI."""

from __future__ import annotations

from uuid import UUID, uuid4

from libs.events.chinatime import previous_month
from libs.events.command import Committed, execute
from libs.events.db import reader
from libs.events.receipt_store import issue_month_receipt
from libs.events.store import NO_STREAM
from libs.web.runtime import Runtime
from services.quality import domain, queries
from services.quality.domain.policy import Policy
from services.quality.projection import PROJECTION

SOURCE = "quality"


async def review(
    runtime: Runtime, order_id: str, command: domain.SubmitReview, actor: str, correlation_id: UUID | None,
) -> Committed[domain.OrderState]:
    return await execute(runtime.store, order_id, domain.ORDERS, command, actor, source=SOURCE,
                         now=runtime.clock, correlation_id=correlation_id, occurred_at=command.reviewed_at)


async def complaint(
    runtime: Runtime, order_id: str | None, command: domain.FileComplaint, actor: str, correlation_id: UUID | None,
) -> Committed[domain.OrderState] | Committed[None]:
    """On the order's stream when it names one, else on a stream of its own."""
    if order_id is not None:
        return await execute(runtime.store, order_id, domain.ORDERS, command, actor, source=SOURCE,
                             now=runtime.clock, correlation_id=correlation_id)
    stream = f"complaint:{command.complaint_id or uuid4()}"
    return await execute(runtime.store, stream, domain.PROVIDER_COMPLAINTS, command, actor, NO_STREAM,
                         source=SOURCE, now=runtime.clock, correlation_id=correlation_id)


async def set_policy(runtime: Runtime, command: domain.SetPolicy, actor: str,
                     correlation_id: UUID | None) -> Committed[None]:
    return await execute(runtime.store, f"quality-policy:{command.maker}", domain.POLICIES, command, actor, source=SOURCE,
                  now=runtime.clock, correlation_id=correlation_id)


async def catch_up(runtime: Runtime) -> int:
    """Bring the quality read model to the store's head; returns the head it reached at least."""
    head = await runtime.store.head_position()
    tail = runtime.tails.get(PROJECTION.name)
    if tail is not None:
        await tail.catch_up()
    else:
        await runtime.projectors[PROJECTION.name].reconcile(grace=0)
    return head


async def close_month(
    runtime: Runtime, maker: str, month: str, who: domain.Actor, actor: str, correlation_id: UUID | None,
) -> tuple[Committed[domain.MonthState], list[dict[str, object]], int]:
    """Freeze a maker's month: the scores as the read model has them up to the store's head."""

    async def build(state: domain.MonthState) -> domain.CloseMonth:
        through = await catch_up(runtime)
        async with reader(runtime.engine).connect() as conn:
            policy: Policy = await queries.policy_for(conn, maker)
            scores = [
                entry
                for level in queries.LEVELS
                for entry in queries.entries(level, await queries.compute(conn, maker, month, level, through, policy))
            ]
            previous = await queries.sheet(conn, maker, previous_month(month), "provider")
        frozen.append((scores, through))
        return domain.CloseMonth(who, maker, month, runtime.clock(), scores, through, policy,
                                 domain.previous_month_open(previous.closed, bool(previous.scores)))

    frozen: list[tuple[list[dict[str, object]], int]] = []
    done = await execute(runtime.store, f"quality-month:{maker}:{month}", domain.MONTHS, build, actor,
                         source=SOURCE, now=runtime.clock, correlation_id=correlation_id)
    scores, through = frozen[-1]
    if runtime.receipt_key is not None:  # the month's signed chain receipt (idempotent per period)
        await issue_month_receipt(runtime.engine, runtime.receipt_key, month, runtime.clock)
    return done, scores, through
