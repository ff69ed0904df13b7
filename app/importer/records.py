"""The import file's records: JSONL or CSV lines read into requests the API takes (pure, no I/O).

One record a line: a `kind` (order, dispatch, arrival, repair, review), the order's `ref` (its
reference in the previous system: the order's `partner_ref`, and the key every later record of
that order names), optionally `maker` and `partner`, and the fields of the request as the API
takes them. CSV has the same columns; a nested field is a dotted column (`customer.name`), a list
(a repair's `parts`) a JSON cell, a yes/no `true` or `false`, an empty cell is no field. Every
record must carry its own past time (the kind's time field): a history without times would be
stamped today.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Kind:
    event: str  # the event type the record appends to the order's stream
    role: str  # who does this over the API
    at: str  # the field holding the record's own time
    path: str  # the request path ({order_id} filled in)


KINDS: dict[str, Kind] = {
    "order": Kind("order.reported", "partner", "reported_at", "/orders"),
    "dispatch": Kind("order.dispatched", "dispatcher", "occurred_at", "/dispatch/orders/{order_id}/dispatch"),
    "arrival": Kind("order.arrived", "technician", "arrived_at", "/dispatch/orders/{order_id}/arrive"),
    "repair": Kind("order.repaired", "technician", "departed_at", "/dispatch/orders/{order_id}/repair"),
    "review": Kind("order.reviewed", "supervisor", "reviewed_at", "/orders/{order_id}/reviews"),
}
META = ("kind", "ref", "maker", "partner")  # the importer's, not sent to the API
INTEGER_COLUMNS = frozenset({"staff_count", "overall"})  # CSV cells the API takes as numbers
BOOLEAN_COLUMNS = frozenset({"provincial_capital"})  # ... and as true/false
DEFAULT_PARTNER = "import"


@dataclass(frozen=True)
class Record:
    line: int
    kind: str
    ref: str
    maker: str
    partner: str
    at: datetime
    body: dict[str, Any]
    partner_given: bool = False  # the record named its partner (else DEFAULT_PARTNER)


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def rows(name: str, text: str) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    """(line number, raw record or the problem reading it) for a .csv file (by its name) or JSONL."""
    if name.lower().endswith(".csv"):
        yield from _csv_rows(text)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Problem(number, "-", f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        yield number, value if isinstance(value, dict) else Problem(number, "-", "a record is a JSON object")


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        number = reader.line_num
        try:
            yield number, nest((k, v) for k, v in row.items() if k)
        except ValueError as exc:
            yield number, Problem(number, *str(exc).split(": ", 1))


def nest(cells: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """A CSV row as the JSON record: dotted columns nested, JSON cells for lists, numbers where the API takes them."""
    record: dict[str, Any] = {}
    for column, cell in cells:
        if cell is None or cell == "":
            continue
        value: Any = cell
        leaf = column.rsplit(".", 1)[-1]
        if cell.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(cell)
            except json.JSONDecodeError:
                raise ValueError(f"{column}: not a JSON list or object") from None
        elif leaf in INTEGER_COLUMNS:
            try:
                value = int(cell)
            except ValueError:
                raise ValueError(f"{column}: not a whole number") from None
        elif leaf in BOOLEAN_COLUMNS:
            if cell.lower() not in ("true", "false"):
                raise ValueError(f"{column}: true or false")
            value = cell.lower() == "true"
        into = record
        *parents, last = column.split(".")
        for part in parents:
            into = into.setdefault(part, {})
            if not isinstance(into, dict):
                raise ValueError(f"{column}: both a value and a group of columns")
        into[last] = value
    return record


def record(number: int, raw: dict[str, Any], maker: str | None) -> Record | Problem:
    """A raw record checked for what the importer itself needs (kind, ref, maker, time); the
    body's own fields are the API's to judge."""
    kind = raw.get("kind")
    if kind not in KINDS:
        return Problem(number, "kind", f"one of {', '.join(KINDS)}")
    ref = raw.get("ref")
    if not isinstance(ref, str) or not ref.strip():
        return Problem(number, "ref", "the order's reference in the previous system is required")
    given = raw.get("maker")
    if maker is not None and given not in (None, maker):
        return Problem(number, "maker", f"{given!r}: this run imports {maker!r}'s history")
    if not isinstance(chosen := maker or given, str) or not chosen:
        return Problem(number, "maker", "required (or run with --maker)")
    spec = KINDS[kind]
    at = _moment(raw.get(spec.at))
    if at is None:
        return Problem(number, spec.at, "an aware ISO 8601 time is required (when it happened)")
    partner = raw.get("partner") or DEFAULT_PARTNER
    if not isinstance(partner, str):
        return Problem(number, "partner", "a partner id")
    body = {k: v for k, v in raw.items() if k not in META}
    if kind == "order":
        body["partner_ref"] = ref
    return Record(number, kind, ref, chosen, partner, at, body, "partner" in raw)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def idempotency_key(maker: str, ref: str) -> str:
    """An order's Idempotency-Key: the same record in any run (or file) is the same order."""
    return f"import:{maker}:{ref}"[:200]


def problems_of(line: int, status: int, body: Any) -> list[Problem]:
    """An API refusal (RFC 9457 problem) as per-field problems of the record's line."""
    if not isinstance(body, dict):
        return [Problem(line, "-", f"HTTP {status}")]
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return [Problem(line, str(e.get("field") or "-"), str(e.get("message") or e))
                for e in errors if isinstance(e, dict)] or [Problem(line, "-", str(errors))]
    detail = body.get("detail") or body.get("title") or f"HTTP {status}"
    return [Problem(line, str(body.get("field") or "-"), str(detail))]
