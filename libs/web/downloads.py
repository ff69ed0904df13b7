"""Files the API hands out: CSV cells safe to open in a spreadsheet, and a Content-Disposition
header safe for any file name.

CSV (OWASP "CSV Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is a formula to Excel and LibreOffice (`=HYPERLINK(...)` in a customer name runs when
the maker opens the sheet), so such a cell gets a leading `'`, which makes it text. A cell
that is a plain number (`-12.50`, a refund) is left alone: it is no formula, and prefixing it
would turn an amount into text.

Content-Disposition (RFC 6266, RFC 8187): `filename*=UTF-8''<percent-encoded>` carries the
real name; `filename="<ascii>"` is the fallback for old clients, with everything outside
printable ASCII, quotes, backslashes and path separators replaced. Control characters never
reach the header, so a name cannot inject a header line.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal, Protocol
from urllib.parse import quote

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\/;%]')
# RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
_ATTR_SAFE = "!#$&+-.^_`|~"


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs as a formula (non-strings pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


class _Writer(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` whose every cell goes through `csv_cell` (rows in `\\r\\n`, as Excel writes)."""

    def __init__(self, out: _Writer, **options: Any) -> None:
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writer, **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)


def completeness_headers(completeness: dict[str, Any]) -> dict[str, str]:
    """What a download says of its figures (the JSON reads carry `complete`/`incomplete`):
    `X-Figures-Complete: false` and the projections that missed events."""
    headers = {"X-Figures-Complete": "true" if completeness["complete"] else "false"}
    if completeness["incomplete"]:
        headers["X-Figures-Incomplete"] = ",".join(completeness["incomplete"])
    return headers


def write_completeness(writer: SafeCsvWriter, completeness: dict[str, Any]) -> None:
    """A last row that a person opening the sheet sees when its figures miss events."""
    if not completeness["complete"]:
        writer.writerow([])
        writer.writerow([f"INCOMPLETE: the {', '.join(completeness['incomplete'])} read model could not apply "
                         "some events (dead letters); these figures leave them out until they are resolved"])


def content_disposition(filename: str, disposition: Literal["attachment", "inline"] = "attachment") -> str:
    """The Content-Disposition value offering `filename` (any Unicode) for download."""
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")  # controls, format chars
    name = name.replace("/", "_").replace("\\", "_").strip() or "download"
    fallback = _UNSAFE_ASCII.sub("_", unicodedata.normalize("NFKD", name)).strip() or "download"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe=_ATTR_SAFE)}"
    return value
