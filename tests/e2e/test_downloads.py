"""The CSV endpoints with hostile names: a header nobody can break, cells no spreadsheet runs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.support.app import auth

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("provider", ['武汉服务商', 'prov"; filename="evil.exe', "prov\r\nSet-Cookie: a=1"])
async def test_a_statement_of_any_provider_id_downloads_under_its_own_name(sqlite_api: Any, provider: str) -> None:
    answer = await sqlite_api.client.get(f"/settlement/statements/{quote(provider, safe='')}",
                                         params={"month": "2026-05", "format": "csv"}, headers=auth("finance"))
    assert answer.status_code == 200, answer.text
    header = answer.headers["content-disposition"]
    assert "set-cookie" not in answer.headers and header.isascii() and header.count('"') == 2
    star = re.search(r"filename\*=UTF-8''([^;]*)$", header)  # RFC 6266: filename* wins where given
    saved = unquote(star.group(1), errors="strict") if star else header.split('filename="')[1][:-1]
    assert saved == f"statement-{provider.replace(chr(13), '').replace(chr(10), '')}-2026-05.csv"
