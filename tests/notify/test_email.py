"""The e-mail adapter against a real local SMTP server (aiosmtpd, started per test)."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.servers import free_port
from services.notify.channels import Message
from services.notify.channels.email import SmtpEmailChannel

SENDER = "service@aftersales.test"


class Inbox:
    """Accepts mail, except to refused@ (550, permanent) and busy@ (451, try later)."""

    def __init__(self) -> None:
        self.mail: list[Envelope] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mail.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_to(address: str) -> Message:
    return Message(
        uuid4(),
        "email",
        address,
        "格力服务：已派工",
        "【格力服务】工程师将于05月04日 14:00前上门。",
    )


async def test_a_message_is_delivered_in_chinese(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    sent = mail_to("zhang@example.cn")
    result = await SmtpEmailChannel("127.0.0.1", port, SENDER).send(sent)
    assert result.status == "delivered" and str(sent.id) in (result.provider_ref or "")
    [envelope] = inbox.mail
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["zhang@example.cn"])
    assert isinstance(envelope.content, bytes)
    parsed: Any = message_from_bytes(envelope.content, policy=policy.default)
    assert parsed["Subject"] == sent.subject
    assert parsed.get_content().strip() == sent.text


@pytest.mark.parametrize(
    ("address", "status"), [("refused@example.cn", "permanent"), ("busy@example.cn", "retry")]
)
async def test_refusals_map_by_reply_code(
    smtp: tuple[Inbox, int], address: str, status: str
) -> None:
    inbox, port = smtp
    result = await SmtpEmailChannel("127.0.0.1", port, SENDER).send(mail_to(address))
    assert result.status == status and ("550" in result.detail or "451" in result.detail)
    assert inbox.mail == []


async def test_no_server_means_retry() -> None:
    result = await SmtpEmailChannel("127.0.0.1", free_port(), SENDER, timeout=2.0).send(
        mail_to("a@b.cn")
    )
    assert result.status == "retry" and result.detail
