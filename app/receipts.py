"""The receipts day job: at each UTC day change, sign the receipt of the day that ended (and,
on the first, of the month that ended). Lives in the composition root: receipts cover every
service's events, so no single service owns it.

A timer, not a poll: it sleeps until the next midnight by the injected clock, then re-reads
the clock (a manual clock in tests, or a wake-up a little early, just sleeps again). The
signing key is the runtime's, loaded once at start-up with the API role.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter

from libs.events.receipt_store import issue_due_receipts
from libs.web.runtime import Runtime, ServiceSpec

log = logging.getLogger(__name__)
RECHECK = 60.0  # at most this long between two reads of the clock (a clock set by hand, NTP steps)


def until_midnight(now: datetime) -> float:
    """Seconds from `now` to the next UTC midnight."""
    utc = now.astimezone(UTC)
    midnight = datetime.combine(utc.date() + timedelta(days=1), time(), UTC)
    return (midnight - utc).total_seconds()


async def day_receipts(runtime: Runtime, stop: asyncio.Event) -> None:
    """Sign each day (and month) that ends while this API process runs."""
    key = runtime.receipt_key
    if key is None:  # no key configured (the runtime said so at start-up)
        return
    day = runtime.clock().astimezone(UTC).date()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), min(until_midnight(runtime.clock()), RECHECK))
            return
        except TimeoutError:
            pass
        today = runtime.clock().astimezone(UTC).date()
        if today == day:
            continue
        day = today
        issued = await issue_due_receipts(runtime.engine, key, runtime.clock)
        log.info("receipts issued for the day change to %s: %s", today, [r.period for _, r in issued])


SERVICE = ServiceSpec("receipts", APIRouter(), jobs=[day_receipts])
