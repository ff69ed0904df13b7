"""SIGUSR1 makes a process log what each asyncio task is waiting on."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from libs.web.context import log_tasks_on


async def test_sigusr1_logs_the_stack_of_a_waiting_task(caplog: pytest.LogCaptureFixture) -> None:
    async def waits_for_the_broker_forever() -> None:
        await asyncio.Event().wait()

    stuck = asyncio.create_task(waits_for_the_broker_forever())
    log_tasks_on(signal.SIGUSR1)
    try:
        with caplog.at_level(logging.WARNING, logger="tasks"):
            os.kill(os.getpid(), signal.SIGUSR1)
            for _ in range(100):
                if caplog.records:
                    break
                await asyncio.sleep(0.01)
        assert "waits_for_the_broker_forever" in caplog.text
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR1)
        stuck.cancel()
