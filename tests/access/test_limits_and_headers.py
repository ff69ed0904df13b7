"""Per-key rate limits (429 + Retry-After, per partner or the Settings default) and the
security headers and offline docs every answer carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from libs.web.auth import create_principal
from tests.support.app import running_api


async def test_a_partner_over_its_own_limit_gets_429_with_retry_after(sqlite_api: Any) -> None:
    api = sqlite_api
    key = await create_principal(api.runtime.engine, api.clock, id="slow", role="partner", name="slow",
                                 rate_limit="2/minute")
    other = await create_principal(api.runtime.engine, api.clock, id="fast", role="partner", name="fast",
                                   rate_limit="100/minute")
    answers = [await api.client.get("/orders", headers={"Authorization": f"Bearer {key}"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429 and refused.json()["retry_after"] == int(refused.headers["retry-after"])
    assert (await api.client.get("/orders", headers={"Authorization": f"Bearer {other}"})).status_code == 200


async def test_the_settings_default_limits_a_key_without_its_own(tmp_path: Path) -> None:
    async with running_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="3/minute") as api:
        key = await create_principal(api.runtime.engine, api.clock, id="dealer", role="partner", name="d")
        codes = [(await api.client.get("/orders", headers={"Authorization": f"Bearer {key}"})).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        demo = [(await api.client.get("/orders", headers={"Authorization": "Bearer demo-partner-key"})).status_code
                for _ in range(5)]
        assert demo == [200] * 5  # the demo keys are unlimited (rate_limit "none")


async def test_pages_and_api_answers_carry_the_security_headers(sqlite_api: Any) -> None:
    api = sqlite_api
    for path, headers in (("/", {}), ("/orders", {"Authorization": "Bearer demo-partner-key"}), ("/nowhere", {}),
                          ("/ui/static/dashboard.js", {}), ("/docs", {})):
        answer = await api.client.get(path, headers=headers)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, path
        assert "http" not in policy, path  # no other origin, not even a CDN
    assert "'unsafe-inline'" not in (await api.client.get("/")).headers["content-security-policy"]


async def test_docs_work_without_a_cdn(sqlite_api: Any) -> None:
    api = sqlite_api
    for page in ("/docs", "/redoc"):
        html = (await api.client.get(page)).text
        assert "/docs-assets/" in html and "cdn" not in html.lower() and "googleapis" not in html, page
    bundle = await api.client.get("/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert (await api.client.get("/docs-assets/redoc.standalone.js")).status_code == 200
    assert (await api.client.get("/docs-assets/swagger-ui.css")).status_code == 200
