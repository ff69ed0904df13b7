"""Request context: the correlation id carried from the HTTP request into every event and log line."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

correlation: ContextVar[uuid.UUID | None] = ContextVar("correlation", default=None)


@dataclass
class RequestFacts:
    """What the access log line of a request tells besides method, path and status. A mutable
    holder in a ContextVar: a dependency that learns the actor fills it in, and the middleware
    reads it after the app returns, however many contexts lie between them."""

    actor: str | None = None


request_facts: ContextVar[RequestFacts | None] = ContextVar("request_facts", default=None)


def note_actor(actor: str) -> None:
    """Record who is calling (for the access log), once authentication found out."""
    facts = request_facts.get()
    if facts is not None:
        facts.actor = actor


# W3C Trace Context: version-traceid-parentid-flags; a trace id of all zeros is invalid.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def incoming_correlation(headers: Iterable[tuple[bytes, bytes]]) -> uuid.UUID | None:
    """The correlation id a caller sent: `X-Correlation-ID` (what the gateway forwards), else
    the trace id of a W3C `traceparent` (128 bits, so a UUID), else `X-Request-ID`; anything
    malformed is ignored, and the caller gets a fresh id instead."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in (b"x-correlation-id", b"traceparent", b"x-request-id"):
            found.setdefault(name, value)
    cid = _uuid(found.get(b"x-correlation-id"))
    if cid is None and (match := _TRACEPARENT.match(found.get(b"traceparent", b"").decode("latin-1"))):
        cid = _uuid(match.group(1).encode())
    return cid or _uuid(found.get(b"x-request-id"))


def _uuid(value: bytes | None) -> uuid.UUID | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed = uuid.UUID(value.decode("latin-1").strip())
    except ValueError:
        return None
    return parsed if parsed.int else None


def correlation_id() -> uuid.UUID:
    """The current request's correlation id (a fresh one outside a request)."""
    return correlation.get() or uuid.uuid4()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the correlation id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (cid := correlation.get()) is not None:
            entry["correlation_id"] = str(cid)
        for key in ("order_id", "event_type", "status", "path", "method", "duration_ms", "actor", "client",
                    "correlation_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def log_tasks_on(signum: int) -> None:
    """Log every asyncio task's stack when the process gets `signum` (SIGUSR1): what a stuck
    relay or projector is waiting on, without a debugger in the container."""
    import asyncio
    import io

    def dump() -> None:
        out = io.StringIO()
        for task in asyncio.all_tasks():
            task.print_stack(limit=25, file=out)
        logging.getLogger("tasks").warning("asyncio tasks:\n%s", out.getvalue())

    asyncio.get_running_loop().add_signal_handler(signum, dump)
