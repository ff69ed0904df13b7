"""The authorization matrix, derived from the route table of the full embedded app.

Every route of `app.main.create_app` must have a rule: a `require(...)` dependency (its roles
are read back from the dependency), one of the declared custom checks below, or a place in
PUBLIC. A new route without one fails `test_every_route_has_a_rule`. Then every route is
called as every role and without a key: no key -> 401, a role the rule does not admit -> 403,
an admitted role -> anything but 401/403 (422, 404 and 2xx all mean "it got past the door").

TENANT holds the object-level dimension (own tenant / other tenant) for the routes where it
already holds; the per-service scoping work extends that table (and turns "denied" into 404).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from libs.events.settings import Settings
from libs.web.auth import READ_ONLY, ROLES, create_principal
from libs.web.deps import SAFE_METHODS, RoleCheck
from services.intake.api import common as intake_common
from services.intake.api import platform as intake_platform
from tests.support.app import Api, running_api

KEYS = {  # one principal per role, each acting for the demo's own tenants (gree, prov-wuhan, jd-retail)
    "partner": "demo-partner-key", "dispatcher": "demo-dispatcher-key", "technician": "demo-technician-key",
    "finance": "demo-finance-key", "supervisor": "demo-supervisor-key", "provider": "demo-provider-key",
    "operator": "demo-operator-key", "viewer": "demo-viewer-key", "hotline": "demo-hotline-key",
    "admin": "demo-admin-key", "platform": "matrix-platform-key", "privacy": "matrix-privacy-key",
}
PUBLIC = {  # (method, path): answered without a key, by design
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/ops/projections"),
    ("GET", "/docs"), ("GET", "/redoc"), ("GET", "/"), ("GET", "/ui/orders/{order_id}"),
    ("GET", "/ui/static/{path:path}"),
}
SAMPLES = {  # a value for every path parameter (own tenant where it names one)
    "order_id": str(uuid.uuid4()), "complaint_id": str(uuid.uuid4()), "maker": "gree", "provider": "prov-wuhan",
    "provider_id": "prov-wuhan", "outlet_id": "out-matrix", "month": "2026-05", "standard_id": "std-matrix",
    "platform_ref": "REF-MATRIX", "path": "dashboard.css", "principal_id": "nobody-here",
    "job_id": str(uuid.uuid4()),
}


@dataclass(frozen=True)
class Rule:
    kind: str  # "roles" | "signed" (HMAC, no bearer key passes) | "public"
    roles: tuple[str, ...] = ()
    readers: frozenset[str] = frozenset()  # roles admitted to its GETs only

    def expected(self, role: str | None, method: str) -> str:
        """'401', '403' or 'pass' (anything but 401/403)."""
        if self.kind == "public":
            return "pass"
        if role is None or self.kind == "signed":
            return "401"
        if role in self.roles or (role in self.readers and method in SAFE_METHODS):
            return "pass"
        return "403"


CUSTOM: dict[Callable[..., Any], Rule] = {  # checks that are not `require(...)`, by their dependency
    intake_common.partner: Rule("roles", ("partner",), frozenset({"operator"})),
    intake_platform.verified_platform: Rule("signed"),
}


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def routes() -> list[tuple[str, str, Rule | None]]:
    """(method, path, rule) for every route of the full app; rule None: nobody declared one."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))  # the route table; never started
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            rules = [Rule("roles", c.roles, READ_ONLY if c.readers else frozenset())
                     for c in _calls(route.dependant) if isinstance(c, RoleCheck)]
            rules += [CUSTOM[c] for c in _calls(route.dependant) if c in CUSTOM]
            if (method, context.path) in PUBLIC:
                rules.append(Rule("public"))
            found.append((method, context.path, rules[0] if len(rules) == 1 else None))
    return found


ROUTES = routes()


def test_every_route_has_a_rule() -> None:
    undeclared = [f"{m} {p}" for m, p, rule in ROUTES if rule is None]
    assert not undeclared, f"routes without exactly one authorization rule: {undeclared}"
    assert len(ROUTES) > 50  # the table really is the app's (all four services, admin, dashboard)


def test_no_role_passes_every_rule() -> None:
    rules = [rule for _, _, rule in ROUTES if rule is not None and rule.kind == "roles"]
    for role in ROLES:
        assert any(rule.expected(role, "POST") == "403" for rule in rules), f"{role} passes every write rule"
    for role in READ_ONLY:
        writes = [f"{m} {p}" for m, p, rule in ROUTES
                  if rule is not None and m not in SAFE_METHODS and rule.expected(role, m) == "pass"]
        assert not writes, f"read-only {role} passes writes {writes}"


@pytest.fixture(scope="module")
async def matrix_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('matrix')) / 'matrix.db'}"
    async with running_api(url) as api:
        for role in ("platform", "privacy"):
            await create_principal(api.runtime.engine, api.clock, id=f"matrix-{role}", role=role, name=role,
                                   key=KEYS[role], rate_limit="none")
        yield api


def _url(path: str) -> str:
    return path.replace("{path:path}", SAMPLES["path"]).format(**SAMPLES)


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in ROUTES])
async def test_route_answers_every_role_as_its_rule_says(matrix_api: Api, method: str, path: str) -> None:
    rule = next(r for m, p, r in ROUTES if (m, p) == (method, path))
    assert rule is not None
    wrong = []
    for role in (None, *ROLES):
        headers = {} if role is None else {"Authorization": f"Bearer {KEYS[role]}"}
        body = {} if method not in SAFE_METHODS and method != "DELETE" else None
        answer = await matrix_api.client.request(method, _url(path), headers=headers, json=body)
        want, got = rule.expected(role, method), answer.status_code
        if (want == "pass" and got in (401, 403)) or (want != "pass" and str(got) != want):
            wrong.append(f"{role or 'no key'}: {got} (want {want}) {answer.text[:120]}")
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)


POLICY = {
    "improvement_reward_fen": 2_000_00, "decline_penalty_fen": 500_00, "all_max_reward_fen": 0, "all_min_penalty_fen": 0,
    "admin_action_threshold": 1,
    "complaint_bands": [{"max_complaints": 0, "amount_fen": 100_00}, {"max_complaints": None, "amount_fen": -1}],
}
# Own tenant / other tenant: (method, url, role, own values, other values). "Denied" is 403 or
# 404 until every service answers another tenant's object with 404.
TENANT: list[tuple[str, str, str, dict[str, str], dict[str, str]]] = [
    ("GET", "/settlement/ledger/{provider}", "provider", {"provider": "prov-wuhan"}, {"provider": "prov-other"}),
    ("GET", "/settlement/statements/{provider}?month=2026-05", "provider", {"provider": "prov-wuhan"},
     {"provider": "prov-other"}),
    ("GET", "/quality/providers/{provider_id}/history", "provider", {"provider_id": "prov-wuhan"},
     {"provider_id": "prov-other"}),
    ("PUT", "/quality/policies/{maker}", "supervisor", {"maker": "gree"}, {"maker": "midea"}),
]


@pytest.mark.parametrize(("method", "path", "role", "own", "other"), TENANT)
async def test_another_tenants_object_is_denied(matrix_api: Api, method: str, path: str, role: str,
                                                own: dict[str, str], other: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {KEYS[role]}"}
    body = None if method == "GET" else POLICY
    mine = await matrix_api.client.request(method, path.format(**own), headers=headers, json=body)
    theirs = await matrix_api.client.request(method, path.format(**other), headers=headers, json=body)
    assert mine.status_code not in (401, 403, 404), mine.text
    assert theirs.status_code in (403, 404), theirs.text
