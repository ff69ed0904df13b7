"""The authorization matrix, derived from the route table of the full embedded app.

Every route of `app.main.create_app` must have a rule: a `require(...)` dependency (its roles
are read back from the dependency), one of the declared custom checks below, or a place in
PUBLIC. A new route without one fails `test_every_route_has_a_rule`. Then every route is
called as every role and without a key: no key -> 401, a role the rule does not admit -> 403,
an admitted role -> anything but 401/403 (422, 404 and 2xx all mean "it got past the door").

TENANT holds the object-level dimension: every route that names a tenant's object, called by
a principal of the demo's own tenants (gree, prov-wuhan, jd-retail) for its own object (past
the door) and for another tenant's (404, exactly as a missing one, never naming the owner).
Every route naming a tenant's object needs a TENANT row (or a reason in NO_TENANT_ROW), and each
row is derived for every other role the route admits (`derived_rows`: that role's own object and
another tenant's of the same kind), so the dimension is route × admitted role × own / other.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from libs.events import catalog
from libs.events.settings import Settings
from libs.web.auth import READ_ONLY, ROLES, create_principal
from libs.web.deps import SAFE_METHODS, RoleCheck
from services.intake.api import common as intake_common
from services.intake.api import platform as intake_platform
from tests.dispatch import factory as dispatch_factory
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
    ("GET", "/s/{token}"), ("GET", "/s/static/status.css"),
}
LINK = {("POST", "/s/{token}/feedback"), ("POST", "/s/{token}/reschedule")}  # the signed status link is the credential
SAMPLES = {  # a value for every path parameter (own tenant where it names one)
    "order_id": str(uuid.uuid4()), "complaint_id": str(uuid.uuid4()), "maker": "gree", "provider": "prov-wuhan",
    "provider_id": "prov-wuhan", "outlet_id": "out-matrix", "month": "2026-05", "standard_id": "std-matrix",
    "platform_ref": "REF-MATRIX", "path": "dashboard.css", "principal_id": "nobody-here",
    "token": "v1.bm8.1.2.x",
    "part_no": "GR-MATRIX", "parts_order_id": "po-matrix", "return_id": "o:F-matrix", "serial": "SN-MATRIX",
    "job_id": str(uuid.uuid4()),
    "technician_id": "tech-matrix", "category": "air_conditioner",
}


@dataclass(frozen=True)
class Rule:
    kind: str  # "roles" | "signed" (HMAC, no bearer key passes) | "public" | "link" (the token)
    roles: tuple[str, ...] = ()
    readers: frozenset[str] = frozenset()  # roles admitted to its GETs only

    def expected(self, role: str | None, method: str) -> str:
        """'401', '403' or 'pass' (anything but 401/403)."""
        if self.kind in ("public", "link"):
            return "pass"
        if role is None or self.kind == "signed":
            return "401"
        if role in self.roles or (role in self.readers and method in SAFE_METHODS):
            return "pass"
        return "403"


CUSTOM: dict[Callable[..., Any], Rule] = {  # checks that are not `require(...)`, by their dependency
    intake_common.partner: Rule("roles", ("partner",), READ_ONLY | {"hotline"}),
    intake_common.reporter: Rule("roles", ("partner", "hotline")),
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
            if (method, context.path) in LINK:
                rules.append(Rule("link"))
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
                  if rule is not None and rule.kind != "link" and m not in SAFE_METHODS
                  and rule.expected(role, m) == "pass"]
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
SLA = {"complaint_response_hours": 1, "on_site_capital_hours": 4, "on_site_other_hours": 8}
OWN_ORDER, OTHER_ORDER = "ord-matrix-1", "ord-matrix-2"  # made by `tenants` below (partner jd-retail)
SUNING_ORDER = "ord-matrix-3"  # a gree order of the other demo partner
# haier orders of a partner of no demo key, dispatched by `tenants` to the demo technician and to another
# provider's: only the technician dimension sees them (and the operator, who sees everything)
TECH_ORDER, FOREIGN_TECH_ORDER = "ord-matrix-4", "ord-matrix-5"
OWN_COMPLAINT, OTHER_COMPLAINT = str(uuid.uuid4()), str(uuid.uuid4())  # on OWN_ORDER and on OTHER_ORDER
GREE, MIDEA = {"maker": "gree"}, {"maker": "midea"}
ORDERS = {"order_id": OWN_ORDER}, {"order_id": OTHER_ORDER}
LOOSE = {"complaint_id": "6a0c1f2e-0000-4000-8000-00000000000a"}, {"complaint_id": "6a0c1f2e-0000-4000-8000-00000000000b"}
PROVIDERS = {"provider": "prov-wuhan"}, {"provider": "prov-other"}
TECH_ORDERS = {"order_id": TECH_ORDER}, {"order_id": FOREIGN_TECH_ORDER}
TECH_ORDERS_IDS = (TECH_ORDER, FOREIGN_TECH_ORDER)
COMPLAINTS = {"order_id": OWN_ORDER, "complaint_id": OWN_COMPLAINT}, {"order_id": OTHER_ORDER, "complaint_id": OTHER_COMPLAINT}
REPAIR = {"diagnosis": "电容老化", "solution": "更换电容", "labour_hours": "1"}
MONTH = "2026-05"
# (method, url, role, own values, other values, body)
TENANT: list[tuple[str, str, str, dict[str, str], dict[str, str], Any]] = [
    ("GET", "/settlement/ledger/{provider}", "provider", *PROVIDERS, None),
    ("GET", "/settlement/statements/{provider}?month=2026-05", "provider", *PROVIDERS, None),
    ("GET", "/quality/providers/{provider}/history", "provider", *PROVIDERS, None),
    ("GET", "/dispatch/queues/{outlet}", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"}, None),
    ("PUT", "/quality/policies/{maker}", "supervisor", GREE, MIDEA, POLICY),
    ("GET", "/quality/policies/{maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/quality/rankings?month=2026-05&maker={maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/quality/rankings?month=2026-05&maker={maker}", "viewer", GREE, MIDEA, None),
    ("GET", "/quality/scores?month=2026-05&maker={maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/quality/call-backs?week=2026-W19&maker={maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/quality/months/2026-05/statistics.csv?maker={maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/quality/months/2026-05/statistics.csv?maker={maker}", "finance", GREE, MIDEA, None),
    ("POST", "/quality/months/2026-04/close?maker={maker}", "supervisor", GREE, MIDEA, None),
    ("GET", "/dispatch/orders/{order_id}", "dispatcher", *ORDERS, None),
    ("GET", "/dispatch/orders/{order_id}", "viewer", *ORDERS, None),
    ("GET", "/dispatch/orders/{order_id}/route", "dispatcher", *ORDERS, None),
    ("GET", "/dispatch/sla-policies/{maker}", "dispatcher", GREE, MIDEA, None),
    ("PUT", "/dispatch/sla-policies/{maker}", "supervisor", GREE, MIDEA, SLA),
    ("GET", "/dispatch/lead-rules/{maker}", "dispatcher", GREE, MIDEA, None),
    ("GET", "/dispatch/leads/{order_id}", "dispatcher", *ORDERS, None),
    ("GET", "/dispatch/leads/{order_id}", "viewer", *ORDERS, None),
    ("POST", "/dispatch/leads/{order_id}/contacted", "dispatcher", *ORDERS, {"note": "电话"}),
    ("POST", "/dispatch/leads/{order_id}/won", "dispatcher", *ORDERS, {"amount_fen": 100}),
    ("POST", "/dispatch/leads/{order_id}/lost", "dispatcher", *ORDERS, {"reason": "不需要"}),
    ("PUT", "/dispatch/lead-rules/{maker}", "dispatcher", GREE, MIDEA, {"default_route": "hq-sales", "rules": []}),
    ("POST", "/dispatch/orders/{order_id}/dispatch", "dispatcher", *ORDERS,
     {"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-01"}),
    ("POST", "/dispatch/orders/{order_id}/on-the-way", "dispatcher", *ORDERS, {"eta": "2026-05-04T04:00:00+00:00"}),
    ("POST", "/dispatch/complaints/{complaint_id}/respond", "dispatcher", *LOOSE, {"response": "已回电致歉"}),
    ("POST", "/dispatch/complaints/{complaint_id}/order", "dispatcher", *LOOSE, {"order_id": OWN_ORDER}),
    ("GET", "/settlements/{order_id}", "finance", *ORDERS, None),
    ("POST", "/orders/{order_id}/reviews", "supervisor", *ORDERS,
     {"channel": "call_back", "timeliness": "A", "quality": "A", "attitude": "A", "overall": 5}),
    ("GET", "/orders/{order_id}", "viewer", *ORDERS, None),
    ("GET", "/orders/{order_id}", "hotline", *ORDERS, None),
    ("GET", "/orders/{order_id}", "partner", {"order_id": OWN_ORDER}, {"order_id": SUNING_ORDER}, None),
    ("POST", "/orders/{order_id}/escalations", "partner", {"order_id": OWN_ORDER}, {"order_id": SUNING_ORDER},
     {"reason": "经销商无法处理"}),
    ("GET", "/history/orders/{order_id}?as_of=2026-06-01T00:00:00Z", "partner", {"order_id": OWN_ORDER},
     {"order_id": SUNING_ORDER}, None),
    ("POST", "/dispatch/orders/{order_id}/reassign", "dispatcher", *ORDERS,
     {"outlet_id": "wh-jiangxia", "technician_id": "tech-wh-01", "reason": "顾客改约"}),
    ("POST", "/dispatch/orders/{order_id}/sla/pause", "dispatcher", *ORDERS, {"reason": "customer_unreachable"}),
    ("POST", "/dispatch/orders/{order_id}/sla/resume", "dispatcher", *ORDERS, {}),
    ("POST", "/dispatch/orders/{order_id}/sla/pause", "technician", *TECH_ORDERS, {"reason": "customer_unreachable"}),
    ("POST", "/dispatch/orders/{order_id}/sla/resume", "technician", *TECH_ORDERS, {}),
    ("POST", "/dispatch/orders/{order_id}/on-the-way", "technician", *TECH_ORDERS, {"eta": "2026-05-04T04:00:00+00:00"}),
    ("POST", "/dispatch/orders/{order_id}/arrive", "technician", *TECH_ORDERS, {}),
    ("POST", "/dispatch/orders/{order_id}/repair", "technician", *TECH_ORDERS, REPAIR),
    ("GET", "/dispatch/orders/{order_id}", "technician", *TECH_ORDERS, None),
    ("POST", "/dispatch/orders/{order_id}/complaints/{complaint_id}/respond", "dispatcher", *COMPLAINTS,
     {"response": "已联系顾客"}),
    ("POST", "/settlements/{order_id}", "finance", *ORDERS, {}),
    ("POST", "/settlements/{order_id}/corrections", "finance", *ORDERS, {"reason": "里程有误"}),
    ("POST", "/settlements/{order_id}/reversal", "finance", *ORDERS, {"reason": "重复结算"}),
    ("GET", "/history/settlement/ledger/{provider}?as_of=1000", "provider", *PROVIDERS, None),
    ("GET", "/history/settlement/statements/{provider}?month=2026-05&as_of=1000", "provider", *PROVIDERS, None),
    ("GET", "/parts/stock/{outlet}", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"}, None),
    ("GET", "/parts/needs/{outlet}", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"}, None),
    ("POST", "/parts/stock/{outlet}/receipts", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"},
     {"maker": "gree", "lines": [{"part_no": "GR-MATRIX", "quantity": 1}]}),
    ("POST", "/parts/stock/{outlet}/counts", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"},
     {"maker": "gree", "part_no": "GR-MATRIX", "counted": 1, "reason": "盘点"}),
    ("POST", "/parts/stock/{outlet}/returns", "provider", {"outlet": "wh-jiangxia"}, {"outlet": "out-other"},
     {"maker": "gree", "lines": [{"part_no": "GR-MATRIX", "quantity": 1}], "reason": "退回"}),
    ("POST", "/parts/catalogue/{maker}/{part_no}/costs", "finance", {"maker": "gree", "part_no": "GR-MATRIX"},
     {"maker": "midea", "part_no": "MD-MATRIX"}, {"cost_fen": 100, "effective_from": "2026-06-01"}),
]
# Routes that name a tenant's object but have no TENANT row, each with the reason; any other such route
# without a row fails `test_every_route_naming_a_tenants_object_has_a_tenant_row`.
NO_TENANT_ROW = {
    ("GET", "/platform/orders/{platform_ref}"): "HMAC-signed per platform: "
    "tests/intake/test_platform_api.py::test_a_complaint_on_an_order_it_did_not_report_shows_the_platform_its_complaint_only",
    ("GET", "/dispatch/outlets/{outlet_id}"): "the outlet registry is the makers' shared service network; other "
    "providers' technicians' phones are masked (test_outlets_show_only_the_providers_own_technicians_phones)",
    ("PUT", "/dispatch/outlets/{outlet_id}"): "the outlet registry is shared reference data (dispatchers, admin)",
    ("GET", "/settlement/contracts/{standard_id}"): "tests/settlement: contracts are read through their maker's scope",
    ("GET", "/settlement/whatif/{job_id}"): "a job id is random and lives in one process; its maker is checked on read",
    ("GET", "/ops/status-links/{order_id}"): "operator and admin only: platform-wide roles",
    ("POST", "/ops/status-links/{order_id}/revocation"): "admin only: a platform-wide role",
    ("GET", "/ui/orders/{order_id}"): "a static page shell: its data comes from the API with the reader's key",
    ("POST", "/parts/orders/{parts_order_id}/shipment"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("POST", "/parts/orders/{parts_order_id}/receipt"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("GET", "/parts/orders/{parts_order_id}"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("POST", "/parts/returns/{return_id}/receipt"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("GET", "/parts/returns/{return_id}"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("GET", "/parts/service-orders/{order_id}/waiting"): "parts knows a service order only by its parts orders, "
    "which are scoped: another maker's order answers exactly as an unknown one (no parts waiting)",
    ("GET", "/parts/serials/{serial}"): "tests/parts/test_api.py::test_another_tenants_objects_are_not_found",
    ("POST", "/dispatch/outlets/{outlet_id}/technicians/{technician_id}/certifications"): "the outlet registry is "
    "shared; the tenant is the certifying maker in the body (another maker is 404): "
    "tests/dispatch/test_certifications_api.py::test_bad_input_and_other_tenants",
    ("POST", "/dispatch/outlets/{outlet_id}/technicians/{technician_id}/certifications/{category}/revocation"): "as "
    "certifying: the maker in the body is the tenant (tests/dispatch/test_certifications_api.py)",
}
TENANT_PARAMS = {"order_id", "maker", "provider", "provider_id", "outlet_id", "complaint_id", "standard_id",
                 "platform_ref", "parts_order_id", "return_id", "serial", "job_id", "part_no"}


def test_every_route_naming_a_tenants_object_has_a_tenant_row() -> None:
    """The tenant dimension is derived from the route table too: a new route with a tenant's object
    in its path needs a TENANT row (or a reason in NO_TENANT_ROW)."""
    def pattern(path: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")

    rows = [(m, p.format(**own).split("?")[0]) for m, p, _, own, _, _ in TENANT]
    missing = [f"{m} {p}" for m, p, _ in ROUTES
               if set(re.findall(r"{(\w+)", p)) & TENANT_PARAMS and (m, p) not in NO_TENANT_ROW
               and not any(rm == m and pattern(p).match(rp) for rm, rp in rows)]
    assert not missing, f"routes naming a tenant's object with no TENANT row: {missing}"
    stale = [k for k in NO_TENANT_ROW if k not in {(m, p) for m, p, _ in ROUTES}]
    assert not stale, f"NO_TENANT_ROW names routes that are gone: {stale}"
OUTLETS = [
    {"id": "wh-jiangxia", "name": "江夏服务网点", "provider_id": "prov-wuhan", "capacity_per_day": 20,
     "areas": [{"city": "武汉市", "county": "江夏区"}],
     "technicians": [{"id": "tech-wh-01", "name": "李师傅", "skills": ["air_conditioner"], "phone": "13900000001"}]},
    {"id": "out-other", "name": "别家网点", "provider_id": "prov-other", "capacity_per_day": 20,
     "areas": [{"city": "武汉市", "county": "江夏区"}],
     "technicians": [{"id": "tech-ot-01", "name": "赵师傅", "skills": ["air_conditioner"], "phone": "13900000002"}]},
]


@pytest.fixture(scope="module")
async def tenants(matrix_api: Api) -> Api:
    """A gree order and a midea order (both in 武汉市, open), and one outlet per provider."""
    if not await matrix_api.runtime.store.read_stream(OWN_ORDER):
        for order_id, maker in ((OWN_ORDER, "gree"), (OTHER_ORDER, "midea")):
            await dispatch_factory.report(matrix_api.runtime.store, matrix_api.clock(), order_id, maker=maker)
        for loose, maker in zip(LOOSE, ("gree", "midea"), strict=True):  # complaints filed without an order
            data = catalog.ComplaintReceived(complaint_id=uuid.UUID(loose["complaint_id"]), channel="hotline",
                                             text="x", provider_id="prov-wuhan", maker=maker,
                                             received_at=matrix_api.clock())
            event = catalog.new_event(data, type_="complaint.received", source="quality", actor="t",
                                      occurred_at=matrix_api.clock())
            await matrix_api.runtime.store.append(f"complaint:{loose['complaint_id']}", [event], 0)
        suning = dispatch_factory.reported(matrix_api.clock())
        suning.data["partner_id"] = "suning"
        await matrix_api.runtime.store.append(SUNING_ORDER, [suning], 0)
        for outlet in OUTLETS:
            answer = await matrix_api.client.post("/dispatch/outlets", json=outlet, headers=_key("admin"))
            assert answer.status_code == 201, answer.text
        for order_id, maker, outlet, provider, technician in (  # each order's sales lead
                (OWN_ORDER, "gree", None, None, None), (OTHER_ORDER, "midea", None, None, None),
                (TECH_ORDER, "haier", "wh-jiangxia", "prov-wuhan", "tech-wh-01"),
                (FOREIGN_TECH_ORDER, "haier", "out-other", "prov-other", "tech-ot-01")):
            lead = catalog.LeadOpened(order_id=order_id, maker=maker, outlet_id=outlet, provider_id=provider,
                                      technician_id=technician, category="other", route_to="sales", route_kind="department",
                                      text="想买", noted_at=matrix_api.clock())
            await matrix_api.runtime.store.append(f"lead-{order_id}", [catalog.new_event(
                lead, type_="lead.opened", source="dispatch", actor="matrix", occurred_at=matrix_api.clock())], 0)
        for order_id, complaint_id in ((OWN_ORDER, OWN_COMPLAINT), (OTHER_ORDER, OTHER_COMPLAINT)):
            made = dispatch_factory.complaint(matrix_api.clock())
            made.data["complaint_id"] = complaint_id
            await matrix_api.runtime.store.append(order_id, [made], 1)
        await create_principal(matrix_api.runtime.engine, matrix_api.clock, id="haier-desk", role="dispatcher",
                               name="haier", party="haier", key="matrix-haier-dispatcher", rate_limit="none")
        for order_id, outlet, technician in ((TECH_ORDER, "wh-jiangxia", "tech-wh-01"),
                                             (FOREIGN_TECH_ORDER, "out-other", "tech-ot-01")):
            haier = dispatch_factory.reported(matrix_api.clock(), maker="haier")
            haier.data["partner_id"] = "gome"
            await matrix_api.runtime.store.append(order_id, [haier], 0)
            await matrix_api.sync()
            answer = await matrix_api.client.post(
                f"/dispatch/orders/{order_id}/dispatch", json={"outlet_id": outlet, "technician_id": technician},
                headers={"Authorization": "Bearer matrix-haier-dispatcher"})
            assert answer.status_code == 200, answer.text
        part = {"maker": "gree", "part_no": "GR-MATRIX", "name": "电容", "cost_fen": 100, "effective_from": "2026-05-01"}
        for path, body, role in (("/parts/catalogue", part, "dispatcher"), ("/parts/stock/wh-jiangxia/receipts", {
                "maker": "gree", "lines": [{"part_no": "GR-MATRIX", "quantity": 5}]}, "provider")):
            answer = await matrix_api.client.post(path, json=body, headers=_key(role))
            assert answer.status_code == 201, answer.text
        await matrix_api.sync()
    return matrix_api


def _key(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


@pytest.mark.parametrize(("method", "path", "role", "own", "other", "body"), TENANT)
async def test_another_tenants_object_is_not_found(tenants: Api, method: str, path: str, role: str,
                                                   own: dict[str, str], other: dict[str, str], body: Any) -> None:
    theirs = await tenants.client.request(method, path.format(**other), headers=_key(role), json=body)
    mine = await tenants.client.request(method, path.format(**own), headers=_key(role), json=body)
    assert mine.status_code not in (401, 403, 404), mine.text
    assert theirs.status_code == 404, theirs.text
    assert "belongs" not in theirs.text and "another" not in theirs.text, theirs.text
    if "order_id" in other:  # the answer names no owner the caller was not told
        assert "midea" not in theirs.text, theirs.text


async def test_lists_show_only_the_callers_makers(tenants: Api) -> None:
    for role in ("dispatcher", "supervisor", "viewer"):
        queue = await tenants.client.get("/dispatch/queues", params={"region": "武汉市"}, headers=_key(role))
        assert {o["order_id"] for o in queue.json()["orders"]} == {OWN_ORDER, SUNING_ORDER}, (role, queue.text)
    provider = await tenants.client.get("/dispatch/queues/wh-jiangxia", headers=_key("provider"))
    assert provider.status_code == 200 and OTHER_ORDER not in provider.text
    everything = await tenants.client.get("/dispatch/queues", params={"region": "武汉市"}, headers=_key("operator"))
    assert {o["order_id"] for o in everything.json()["orders"]} >= {OWN_ORDER, OTHER_ORDER, SUNING_ORDER}
    tenants.clock.advance(hours=12)  # both orders now past their deadline
    try:
        overdue = await tenants.client.get("/dispatch/overdue", headers=_key("dispatcher"))
        listed = {o["order_id"] for o in overdue.json()["orders"]} | {c["order_id"] for c in overdue.json()["complaints"]}
        own_loose = f"complaint:{LOOSE[0]['complaint_id']}"  # gree's complaint filed without an order
        assert SUNING_ORDER in listed and listed <= {OWN_ORDER, SUNING_ORDER, own_loose}, overdue.text  # gree's only
    finally:
        tenants.clock.advance(hours=-12)
    for role, listed in (("viewer", {OWN_ORDER, SUNING_ORDER}), ("hotline", {OWN_ORDER, SUNING_ORDER}),
                         ("partner", {OWN_ORDER, OTHER_ORDER}),
                         ("operator", {OWN_ORDER, OTHER_ORDER, SUNING_ORDER, *TECH_ORDERS_IDS})):
        orders = await tenants.client.get("/orders", headers=_key(role))
        assert {o["order_id"] for o in orders.json()["items"]} == listed, (role, orders.text)
    scores = await tenants.client.get("/quality/scores", params={"month": MONTH}, headers=_key("supervisor"))
    assert "midea" not in scores.text, scores.text


async def test_outlets_show_only_the_providers_own_technicians_phones(tenants: Api) -> None:
    for role, visible in (("provider", {"13900000001"}), ("dispatcher", {"13900000001", "13900000002"})):
        outlets = (await tenants.client.get("/dispatch/outlets", headers=_key(role))).json()
        phones = {t["phone"] for o in outlets for t in o["technicians"] if t.get("phone")}
        assert phones == visible, (role, outlets)


# The tenant dimension for every admitted role, not only the row's: each TENANT row is derived for
# every other role its route admits, with that role's own and another tenant's object of the same
# kind. Families hold the same kind of tenant (a maker's staff, a provider's staff, a partner).
FAMILY = {"dispatcher": "maker", "supervisor": "maker", "finance": "maker", "viewer": "maker", "hotline": "maker",
          "provider": "provider", "technician": "provider", "partner": "partner"}
OWN_OTHER: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {
    ("maker", "order_id"): ORDERS, ("provider", "order_id"): TECH_ORDERS,
    ("partner", "order_id"): ({"order_id": OWN_ORDER}, {"order_id": SUNING_ORDER}),
    ("maker", "maker"): (GREE, MIDEA), ("provider", "provider"): PROVIDERS,
    ("provider", "outlet"): ({"outlet": "wh-jiangxia"}, {"outlet": "out-other"}),
    ("maker", "complaint_id"): ({"complaint_id": OWN_COMPLAINT}, {"complaint_id": OTHER_COMPLAINT}),
    ("maker", "part_no"): ({"part_no": "GR-MATRIX"}, {"part_no": "MD-MATRIX"}),
}


def _rule_of(method: str, path: str) -> Rule | None:
    for m, p, rule in ROUTES:
        if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path.split("?")[0]):
            return rule
    return None


def derived_rows() -> list[tuple[str, str, str, dict[str, str], dict[str, str], Any]]:
    rows, given = [], {(m, p, r) for m, p, r, *_ in TENANT}
    for method, path, role, own, other, body in TENANT:
        rule = _rule_of(method, path.format(**own))
        for admitted in sorted(FAMILY):
            if admitted == role or (method, path, admitted) in given or rule is None:
                continue
            if rule.expected(admitted, method) != "pass":
                continue
            family, mine, theirs = FAMILY[admitted], dict(own), dict(other)
            try:
                for param in own:
                    mine[param], theirs[param] = (v[param] for v in OWN_OTHER[(family, param)])
            except KeyError:  # the family has no object of this kind (e.g. provider staff and a maker's policy)
                continue
            rows.append((method, path, admitted, mine, theirs, body))
            given.add((method, path, admitted))
    return rows


@pytest.mark.parametrize(("method", "path", "role", "own", "other", "body"), derived_rows())
async def test_every_admitted_role_finds_another_tenants_object_missing(
        tenants: Api, method: str, path: str, role: str, own: dict[str, str], other: dict[str, str], body: Any) -> None:
    await test_another_tenants_object_is_not_found(tenants, method, path, role, own, other, body)
