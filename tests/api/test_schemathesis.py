"""Schemathesis against the app's own OpenAPI document: no 5xx, no answer the document does not allow."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import with_subflow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Bounded so the whole run stays well under a minute on a 2-core machine.
# The operations this suite owns; other resources' tests run schemathesis over their own paths.
PATHS = r"^/v1/(rego/(flows|designs|utility)/|whoami/|openapi\.json|docs)"
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_v1_rego_endpoints_conform_to_the_openapi_document(app, admin, make_flow, make_design, mode):
    child = make_flow("Child")
    make_design(flow=child)
    parent = make_design(with_subflow(child["slug"]))
    # Half the cases address objects that exist, so handlers run past their 404s.
    known = {"flow_id": child["id"], "design_id": parent["id"]}
    run_schemathesis(app, admin, PATHS, mode, EXAMPLES[mode], known, min_operations=15)


def run_schemathesis(app: Any, headers: dict[str, str], paths: str, mode: GenerationMode,
                     examples: int, known: dict[str, str], *, min_operations: int) -> None:
    """Run bounded cases of every operation matching `paths`; none may 5xx or break the spec.

    `known` fills half the cases' path parameters with objects that exist, so handlers run past
    their 404s.
    """
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app).include(path_regex=paths)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= min_operations

    statuses: list[int] = []
    for operation in operations:
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=_cases(operation, mode, known))
        def check(case: schemathesis.Case) -> None:
            with app.app_context():  # each request its own context and db session, as in production
                statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        try:
            check()
        except Unsatisfiable:
            # Nothing to negate: the operation takes no parameters and no body.
            assert mode is GenerationMode.NEGATIVE and not _has_inputs(operation)
    # The run reached the handlers, not only the validation layer.
    assert statuses and (mode is GenerationMode.NEGATIVE or any(s < 300 for s in statuses))
    assert all(s < 500 for s in statuses)


def _cases(operation: Any, mode: GenerationMode, known: dict[str, str]) -> st.SearchStrategy[Any]:
    fixed = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
    if not fixed or mode is GenerationMode.NEGATIVE:
        return operation.as_strategy(generation_mode=mode)
    return st.one_of(operation.as_strategy(generation_mode=mode),
                     operation.as_strategy(generation_mode=mode, path_parameters=fixed))


def _has_inputs(operation: object) -> bool:
    return any(len(getattr(operation, name)) for name in ("path_parameters", "query", "headers", "body"))
