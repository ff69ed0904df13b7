"""Waiting for whichever comes first: a notification, a stop, or a safety timeout."""

from __future__ import annotations

import asyncio


async def wait_any(*events: asyncio.Event | None, within: float) -> None:
    """Until one of the events (None ones ignored) is set or `within` seconds passed."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events if e is not None]
    try:
        await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
