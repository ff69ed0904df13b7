"""The log channel: the embedded default (`make run` needs no SMS provider or mail server)."""

from __future__ import annotations

import logging

from services.notify.channels import DeliveryResult, Message
from services.notify.domain.templates import mask_address

log = logging.getLogger("services.notify.log_channel")


class LogChannel:
    """Writes each message to the log, the address masked; always delivered."""

    name = "log"

    async def send(self, message: Message) -> DeliveryResult:
        log.info("notification %s to %s: %s", message.id, mask_address("sms", message.address),
                 message.text)
        return DeliveryResult.delivered()

    async def aclose(self) -> None:
        return None
