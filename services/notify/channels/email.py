"""E-mail through SMTP (aiosmtplib), one connection per message.

Outcomes: accepted -> delivered; a 5xx reply (refused recipient or sender, rejected data) ->
permanent; a 4xx reply, a refused connection, a timeout or a dropped session -> retry.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from services.notify.channels import DeliveryResult, Message


class SmtpEmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, start_tls: bool = False,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._username, self._password = username, password
        self._start_tls, self._timeout = start_tls, timeout

    async def send(self, message: Message) -> DeliveryResult:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.address, message.subject
        mail["Message-ID"] = make_msgid(idstring=str(message.id))
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(mail, hostname=self.host, port=self.port, username=self._username,
                                  password=self._password, start_tls=self._start_tls,
                                  timeout=self._timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return _by_code(min(codes) if codes else 550, str(exc))
        except aiosmtplib.SMTPResponseException as exc:
            return _by_code(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.delivered(str(mail["Message-ID"]))

    async def aclose(self) -> None:
        return None


def _by_code(code: int, text: str) -> DeliveryResult:
    detail = f"SMTP {code}: {text}"[:200]
    return DeliveryResult.permanent(detail) if 500 <= code < 600 else DeliveryResult.retry(detail)
