"""The CSV endpoints with hostile names: a header nobody can break, cells no spreadsheet runs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote
from uuid import uuid4

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


async def test_hostile_cells_from_accepted_input_reach_both_sheets_as_text(sqlite_api: Any) -> None:
    """A customer name and a partner reference that are spreadsheet formulas, accepted as text,
    come out of the 表7-28 sheet and the provider's statement prefixed with ' (OWASP), and the
    sheet downloads under a file name of its own."""
    import csv
    import io

    from tests.settlement.factory import T0, repaired_order, reported, standard_body

    api, name, ref = sqlite_api, '=HYPERLINK("http://evil.example","点我")', "=1+2"
    report = reported(ref=ref)
    report.data["customer"]["name"] = name
    await api.runtime.store.append("o-evil", [report], 0)
    await repaired_order(api.runtime.store, "o-after", ref="JD-2")  # the fixture's path for the rest of the stream
    events = (await api.runtime.store.read_stream("o-after"))[1:]
    await api.runtime.store.append("o-evil", [e.model_copy(update={"id": uuid4()}) for e in events], 1)
    assert (await api.client.post("/settlement/standards", json=standard_body(), headers=auth("finance"))).status_code == 201
    await api.sync()
    assert (await api.client.post("/settlements/o-evil", json={}, headers=auth("finance"))).status_code == 201
    await api.sync()
    month = T0.strftime("%Y-%m")
    sheet = await api.client.get(f"/quality/months/{month}/statistics.csv", params={"maker": "gree"},
                                 headers=auth("supervisor"))
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-disposition"] == f'attachment; filename="statistics-gree-{month}.csv"'
    cells = [c for row in csv.reader(io.StringIO(sheet.text)) for c in row]
    assert "'" + name in cells and name not in cells
    statement = await api.client.get("/settlement/statements/prov-wuhan", params={"month": month, "format": "csv"},
                                     headers=auth("finance"))
    cells = [c for row in csv.reader(io.StringIO(statement.text)) for c in row]
    assert "'" + ref in cells and ref not in cells
