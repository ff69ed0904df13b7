"""The dashboard's HTTP surface without a browser: the page, the order page, the committed static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.app import running_api

VENDOR = Path(__file__).resolve().parents[2] / "app" / "dashboard" / "static" / "vendor"


async def test_the_page_is_served_with_the_demo_key_and_the_vendored_chart_library(sqlite_api: Any) -> None:
    page = await sqlite_api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-demo-key="demo-viewer-key"' in page.text
    for src in ("/ui/static/vendor/chart-4.6.1.umd.min.js", "/ui/static/dashboard.js", "/ui/static/dashboard.css"):
        assert src in page.text
        asset = await sqlite_api.client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 1000
    chart = await sqlite_api.client.get("/ui/static/vendor/chart-4.6.1.umd.min.js")
    assert chart.content == (VENDOR / "chart-4.6.1.umd.min.js").read_bytes()
    assert chart.headers["content-type"].startswith("text/javascript")


async def test_the_order_page_names_its_order_and_escapes_it(sqlite_api: Any) -> None:
    page = await sqlite_api.client.get("/ui/orders/abc<script>")
    assert page.status_code == 200
    assert 'data-order-id="abc&lt;script&gt;"' in page.text and "<script>" not in page.text.split("</head>")[1]


async def test_static_files_stay_inside_the_static_folder(sqlite_api: Any) -> None:
    for path in ("/ui/static/../router.py", "/ui/static/%2e%2e/router.py", "/ui/static/nope.js", "/ui/static/vendor"):
        response = await sqlite_api.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_outside_the_demo_the_page_asks_for_a_key(tmp_path: Path) -> None:
    async with running_api(f"sqlite:///{tmp_path / 'prod.db'}") as api:  # demo=True; then switched off
        api.runtime.settings = api.runtime.settings.model_copy(update={"demo": False})
        page = await api.client.get("/")
    assert 'data-demo-key=""' in page.text
    assert "demo-viewer-key" not in page.text
