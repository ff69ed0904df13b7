"""Request context: the correlation id carried from the HTTP request into every event and log line."""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

correlation: ContextVar[uuid.UUID | None] = ContextVar("correlation", default=None)


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
        for key in ("order_id", "event_type", "status", "path", "method", "duration_ms"):
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
