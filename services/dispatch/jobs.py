"""The SLA watcher: escalate every breached SLA exactly once.

Exactly once without a lock or a leader: the breach is recorded in the order's own
stream (`order.escalated`, trigger sla_breach, `breach` = which SLA), and the watcher
decides from that stream and appends with the version it read. Two watchers that race
on one order both decide "escalate"; the store accepts the first append and refuses the
second with a ConcurrencyConflict; the loser re-reads, sees the breach already
escalated and decides nothing. A restart re-reads the same streams, so it cannot
repeat an escalation either. The queue projection only nominates candidates (it may
lag); the stream has the last word.
"""

from __future__ import annotations

import logging

from libs.web import metrics
from libs.web.runtime import Runtime, periodic
from services.dispatch import handlers, queries

log = logging.getLogger(__name__)


async def escalate_order(runtime: Runtime, order_id: str) -> int:
    """Escalate the order's unescalated breaches; returns how many events this call appended."""
    appended = await handlers.escalate_order(runtime, order_id)
    if appended:
        metrics.sla_breaches.inc(len(appended))
        log.info("escalated %d SLA breach(es) of %s", len(appended), order_id)
    return len(appended)


async def watch_once(runtime: Runtime) -> int:
    """One pass over the breach candidates; returns the number of escalations appended."""
    total = 0
    for order_id in await queries.breach_candidates(runtime.engine, runtime.clock()):
        try:
            total += await escalate_order(runtime, order_id)
        except Exception:  # one bad order must not stop the others
            log.exception("SLA watcher failed on order %s", order_id)
    return total


sla_watcher = periodic("SLA watcher", watch_once, lambda settings: settings.sla_watch_interval)


# ---- the parts watcher (issue 17) --------------------------------------------------------
# A parts_on_order pause that names its parts order ends when the parts service records that
# parts order received. Dispatch hears of the receipt through its own projection (fed by the
# store tail embedded, by Kafka distributed), which only nominates candidates; the order's
# stream decides (domain/parts_wait.py: resume only while the running pause waits for exactly
# that parts order), and the append carries the version read. So a pass repeated, two watchers
# racing, or a restart that re-reads everything resume each wait at most once.


async def resume_received_once(runtime: Runtime) -> int:
    """One pass over the paused orders whose parts arrived; returns the number of resumes appended."""
    total = 0
    for order_id, parts_order_id, received_at in await queries.parts_received_candidates(runtime.engine):
        try:
            appended = await handlers.resume_for_parts(runtime, order_id, parts_order_id, received_at)
        except Exception:  # one bad order must not stop the others
            log.exception("parts watcher failed on order %s", order_id)
            continue
        if appended:
            log.info("resumed the SLA of %s: parts order %s received", order_id, parts_order_id)
        total += len(appended)
    return total


parts_watcher = periodic("parts watcher", resume_received_once, lambda settings: settings.sla_watch_interval)
