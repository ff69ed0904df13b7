"""CSV cells and Content-Disposition headers that are safe whatever the data (libs/web/downloads.py)."""

from __future__ import annotations

import csv
import io
import re
from email.message import Message
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.web.downloads import content_disposition, csv_cell, csv_writer


@pytest.mark.parametrize("formula", [
    "=HYPERLINK(\"http://evil\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR",
])
def test_a_formula_becomes_text(formula: str) -> None:
    assert csv_cell(formula) == "'" + formula


@pytest.mark.parametrize("plain", ["张伟", "KFR-35GW", "a=b", "-12.50", "+3", "-.5", "", "'quoted"])
def test_ordinary_cells_and_numbers_pass_unchanged(plain: str) -> None:
    assert csv_cell(plain) == plain


def test_non_strings_pass_unchanged() -> None:
    assert csv_cell(-1200) == -1200 and csv_cell(None) is None


def test_the_writer_neutralises_every_cell() -> None:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["=1+1", "ok", -5, "-5"])
    writer.writerows([["@x", "a,=b"]])
    assert out.getvalue() == "'=1+1,ok,-5,-5\r\n'@x,\"a,=b\"\r\n"
    assert next(csv.reader(io.StringIO(out.getvalue())))[0] == "'=1+1"


def _parsed(value: str) -> str | None:
    """The name a client following RFC 6266 saves (filename* over filename)."""
    star = re.search(r"; filename\*=([^;]*)$", value)
    if star is not None:
        charset, _, encoded = star.group(1).split("'", 2)
        return unquote(encoded, encoding=charset, errors="strict")
    message = Message()
    message["Content-Disposition"] = value
    return message.get_filename()


def test_an_ascii_name_is_plain() -> None:
    assert content_disposition("statement-prov-wuhan-2026-05.csv") == \
        'attachment; filename="statement-prov-wuhan-2026-05.csv"'


def test_a_unicode_name_has_filename_star_and_an_ascii_fallback() -> None:
    value = content_disposition("statement-武汉服务商-2026-05.csv")
    assert value.startswith('attachment; filename="statement-') and value.isascii()
    assert "filename*=UTF-8''statement-%E6%AD%A6%E6%B1%89" in value
    assert _parsed(value) == "statement-武汉服务商-2026-05.csv"


@pytest.mark.parametrize("name", ['a"; filename="evil.exe', "a\r\nSet-Cookie: x=1", "../../etc/passwd", "a\\b"])
def test_nothing_in_a_name_escapes_the_header(name: str) -> None:
    value = content_disposition(name)
    assert "\r" not in value and "\n" not in value and value.isascii()
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "/" not in fallback and "\\" not in fallback
    assert value.count('"') == 2


@given(st.text(max_size=60))
def test_any_name_gives_one_latin1_header_value(name: str) -> None:
    value = content_disposition(name)
    value.encode("latin-1")  # what Starlette must be able to send
    assert value.isascii() and value.isprintable() and value.count('"') == 2
    parsed = _parsed(value)
    assert parsed is not None and "\n" not in parsed
