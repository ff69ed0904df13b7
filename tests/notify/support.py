"""Test doubles for the dispatcher: a scripted channel and a manual clock start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.notify.channels import DeliveryResult, Message

START = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 in China: outside quiet hours


class ScriptedChannel:
    """Answers from a script (then `delivered`), recording every message it was given."""

    def __init__(self, name: str, *script: DeliveryResult | Exception) -> None:
        self.name = name
        self.script = list(script)
        self.sent: list[Message] = []
        self._sent_one = asyncio.Event()

    async def send(self, message: Message) -> DeliveryResult:
        self.sent.append(message)
        self._sent_one.set()
        if not self.script:
            return DeliveryResult.delivered(f"{self.name}-{len(self.sent)}")
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def wait_sent(self, count: int, seconds: float = 5.0) -> None:
        """Until `count` messages were sent (woken by each send, no polling)."""
        async with asyncio.timeout(seconds):
            while len(self.sent) < count:
                self._sent_one.clear()
                await self._sent_one.wait()

    async def aclose(self) -> None:
        return None
