"""schemathesis over every operation of the embedded app (ASGI, in-process), with each
demo role's key in turn and every built-in check: no 5xx, only documented statuses and
content types, answers that match their schemas. Bounded and derandomized, so CI is
deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from libs.events.clock import ManualClock
from libs.events.settings import Settings
from tests.support.app import KEYS, START

pytestmark = pytest.mark.integration
EXAMPLES = 3
# Not run: positive_data_acceptance. JSON Schema cannot say what the API rightly refuses with a
# 422 naming the field: control/bidi/zero-width characters (libs/web/text.py), dates outside
# 2000-01-01..2100-12-31 or in the future, a purchase before manufacture, 32.0 for an integer.
EXCLUDED = [positive_data_acceptance]
# every demo role: the read-only viewer, the hotline agent and the admin too (platforms sign with
# HMAC instead of a key, so their routes are fuzzed as 401 here and tested in tests/intake)
FUZZ_KEYS = {**KEYS, "viewer": "demo-viewer-key", "hotline": "demo-hotline-key", "admin": "demo-admin-key"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "api.db"
    settings_ = Settings(database_url=f"sqlite+aiosqlite:///{path}", demo=True,  # type: ignore[call-arg]
                         sla_watch_interval=3600)
    app = create_app(settings_, ManualClock(START))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_with_every_role(api_schema: schemathesis.BaseSchema) -> None:
    """Each operation's own hypothesis run (schemathesis's strategy for it), every case sent
    with each role's key; failures name the operation and the case."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            for key in FUZZ_KEYS.values():
                case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, excluded_checks=EXCLUDED)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every failing operation
            failures.append(f"{operation.label}: {exc}"[:1500])
    assert not failures, "\n\n".join(failures)
