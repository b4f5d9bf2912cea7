"""Schemathesis over the Runner, Store, Warehouse and seed-001 operations: no 5xx, nothing off-spec."""

from __future__ import annotations

import pytest
from schemathesis.generation import GenerationMode

from tests.api.runner_fixtures import seed000_design
from tests.api.test_schemathesis import run_schemathesis

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
    run_schemathesis(app, admin, PATHS, mode, EXAMPLES[mode], known, min_operations=18)
