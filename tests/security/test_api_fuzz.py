"""Random JSON bodies on every POST/PUT API endpoint, as an admin: never a 5xx (bounded, a few seconds)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.world import build_tenant, caller_for, is_api, routes, url_for_rule

# Property names the API's schemas use, so generated bodies get past the top-level shape sometimes.
KEYS = ["action", "data", "flow_id", "design_id", "document", "name", "title", "items", "done", "note",
        "comment", "version", "template", "type", "runner_id", "resource_id", "resource_type", "levels",
        "fields", "due_at", "description", "email", "mobile", "customer_id", "company", "code",
        "challenge_id", "refresh_token", "node", "reason", "slug", "tags", "label", "required",
        "create_if_not_exists", "idempotency_key", "nodes", "start_node", "edges", "config", "key"]
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False)
           | st.text(max_size=40) | st.sampled_from(["", "${store}", "${SECRET.x}", "../../etc/passwd",
                                                     "0" * 300, "\x00", "' OR 1=1 --", "{{7*7}}"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4),
                      max_leaves=12)
bodies = values | st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def test_random_bodies_never_break_the_api(app, make_company, make_user, make_token, tmp_path):
    app.config["FLOWDESK_STORAGE_ROOT"] = str(tmp_path / "uploads")
    app.extensions.pop("flowdesk_storage", None)
    tenant = build_tenant(make_company, make_user, make_token)
    admin = caller_for("admin", app, tenant, make_company, make_user, make_token)
    targets = [(rule, method, url_for_rule(rule, tenant.params)) for rule, method in routes(app)
               if is_api(rule) and method in ("POST", "PUT", "PATCH")]
    assert len(targets) > 25
    started, failures, statuses = time.monotonic(), [], set()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(target=st.sampled_from(targets), body=bodies)
    def post(target, body):
        rule, method, url = target
        response = admin.client.open(url, method=method, json=body, headers=admin.api_headers)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{method} {rule.rule} {body!r}: {response.status_code}")
        assert response.status_code < 500, failures[-1]

    post()
    assert time.monotonic() - started < 30
    assert any(200 <= s < 300 for s in statuses), statuses  # signed in, and bodies got through
