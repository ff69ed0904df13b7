"""Test doubles for the dispatcher: a scripted channel and a manual clock start."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notify.channels import DeliveryResult, Message

START = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 in China: outside quiet hours


class ScriptedChannel:
    """Answers from a script (then `delivered`), recording every message it was given."""

    def __init__(self, name: str, *script: DeliveryResult | Exception) -> None:
        self.name = name
        self.script = list(script)
        self.sent: list[Message] = []

    async def send(self, message: Message) -> DeliveryResult:
        self.sent.append(message)
        if not self.script:
            return DeliveryResult.delivered(f"{self.name}-{len(self.sent)}")
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self) -> None:
        return None
