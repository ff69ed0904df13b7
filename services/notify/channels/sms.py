"""SMS through a provider-neutral HTTP API: one JSON POST per message.

Request: `POST <url>` with `Authorization: Bearer <token>`, `Idempotency-Key: <message id>`
and `{"to": phone, "text": text, "reference": message id}`.
Answer mapping (any provider's gateway can be fronted to speak this, or get its own adapter):
- 2xx with `{"status": "rejected", ...}` -> permanent (the provider refused this number/text);
  any other 2xx -> delivered, `{"id": ...}` kept as the provider reference;
- 408, 425, 429, 5xx, timeouts, connection errors -> retry (Retry-After honoured);
- any other 4xx -> permanent (bad number, bad credentials: repeating will not help; ops see
  the error on the row and re-queue once fixed).
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.notify.channels import DeliveryResult, Message

RETRYABLE = frozenset({408, 425, 429})


class HttpSmsChannel:
    name = "sms"

    def __init__(self, url: str, token: str, client: httpx.AsyncClient | None = None,
                 timeout: float = 10.0) -> None:
        self.url = url
        self._token = token
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    async def send(self, message: Message) -> DeliveryResult:
        headers = {"Authorization": f"Bearer {self._token}", "Idempotency-Key": str(message.id)}
        body = {"to": message.address, "text": message.text, "reference": str(message.id)}
        try:
            answer = await self._client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return interpret(answer)

    async def aclose(self) -> None:
        await self._client.aclose()


def interpret(answer: httpx.Response) -> DeliveryResult:
    """The provider's answer as a delivery result (see the module docstring)."""
    code = answer.status_code
    if 200 <= code < 300:
        body = _json(answer)
        if body.get("status") == "rejected":
            return DeliveryResult.permanent(f"rejected: {body.get('reason', '')}"[:200])
        ref = body.get("id")
        return DeliveryResult.delivered(str(ref) if ref is not None else None)
    detail = f"HTTP {code}: {answer.text[:200]}"
    if code in RETRYABLE or code >= 500:
        return DeliveryResult.retry(detail, _retry_after(answer))
    return DeliveryResult.permanent(detail)


def _json(answer: httpx.Response) -> dict[str, object]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(answer: httpx.Response) -> timedelta | None:
    value = answer.headers.get("Retry-After", "")
    return timedelta(seconds=int(value)) if value.isdigit() else None
