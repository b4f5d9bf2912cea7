"""Schemathesis over the Runner, Store, Warehouse and seed-001 operations: no 5xx, nothing off-spec."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.api.runner_fixtures import seed000_design
from tests.api.test_schemathesis import CHECKS, _cases, _has_inputs

PATHS = r"^/(v1/rego/(runners|stores|warehouse)/|flow/api/runners/)"
# Fewer examples than the flows suite: these operations run the engine, and the run must stay short.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_runner_endpoints_conform_to_the_openapi_document(app, client, admin, make_flow, make_design, mode):
    flow = make_flow("Fuzzed")
    make_design(seed000_design(), flow=flow)
    runner = client.post("/v1/rego/runners/", headers=admin, json={"flow_id": flow["id"]}).get_json()
    # Half the cases address objects that exist, so handlers run past their 404s.
    known = {"runner_id": runner["id"], "store_id": runner["store_id"], "flow_id": flow["id"]}
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app).include(path_regex=PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18

    statuses: list[int] = []
    for operation in operations:
        @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=_cases(operation, mode, known))
        def check(case: schemathesis.Case) -> None:
            with app.app_context():
                statuses.append(case.call_and_validate(headers=admin, checks=CHECKS).status_code)

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE and not _has_inputs(operation)
    assert statuses and (mode is GenerationMode.NEGATIVE or any(s < 300 for s in statuses))
    assert all(s < 500 for s in statuses)
