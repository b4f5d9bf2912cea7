"""Shared API conventions: problem bodies, pagination, tenant isolation, roles, the OpenAPI document."""

from __future__ import annotations

import re
from itertools import count

import pytest

from tests.api.conftest import assert_problem, error_paths, tiny

UUID0 = "00000000-0000-0000-0000-000000000000"


# --- problem bodies -------------------------------------------------------------------------------
def test_malformed_json_is_a_400_problem(client, admin):
    response = client.post("/v1/rego/flows/", data="{not json", content_type="application/json",
                           headers=admin)
    assert "JSON" in assert_problem(response, 400)["detail"]


def test_json_nested_too_deeply_is_a_400_problem_not_a_crash(client, admin, start):
    """Python's parser gives up on very deep nesting with a RecursionError: that is bad JSON too."""
    runner = start()
    deep = '{"action": "submit", "data": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    for method, path in (("post", f"/v1/rego/runners/{runner['id']}/execute/"),
                         ("put", f"/v1/rego/runners/{runner['id']}/store/"), ("post", "/v1/rego/flows/")):
        response = getattr(client, method)(path, data=deep, content_type="application/json",
                                           headers={**admin, "Idempotency-Key": "deep-1"})
        assert "nested too deeply" in assert_problem(response, 400)["detail"], path


def test_missing_credentials_are_a_401_problem(client):
    response = client.get("/v1/rego/flows/")
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_viewers_read_but_only_admins_change(client, admin, viewer, make_design):
    design = make_design()
    assert client.get(f"/v1/rego/designs/{design['id']}/", headers=viewer).status_code == 200
    assert client.get("/v1/rego/flows/", headers=viewer).status_code == 200
    attempts = [
        client.post("/v1/rego/flows/", json={"name": "x"}, headers=viewer),
        client.put(f"/v1/rego/flows/{design['flow_id']}/", json={"name": "x"}, headers=viewer),
        client.post("/v1/rego/designs/", json={"flow_id": design["flow_id"], "document": tiny()},
                    headers=viewer),
        client.put(f"/v1/rego/designs/{design['id']}/", json={"name": "x"}, headers=viewer),
        client.put(f"/v1/rego/designs/{design['id']}/mark-current/", headers=viewer),
        client.post(f"/v1/rego/designs/{design['id']}/duplicate/", headers=viewer),
    ]
    for response in attempts:
        assert_problem(response, 403)
    assert client.get(f"/v1/rego/designs/{design['id']}/", headers=admin).get_json() == design


@pytest.mark.parametrize("path", [f"/v1/rego/flows/{UUID0}/", f"/v1/rego/designs/{UUID0}/",
                                  f"/v1/rego/designs/{UUID0}/expanded/", "/v1/rego/flows/not-a-uuid/"])
def test_unknown_objects_are_404_problems(client, admin, path):
    assert_problem(client.get(path, headers=admin), 404)


def test_validation_errors_are_422_with_field_paths(client, admin, make_flow):
    body = assert_problem(client.post("/v1/rego/flows/", headers=admin, json={
        "tags": ["ok", "x" * 51], "slug": "Bad Slug", "colour": "red"}), 422)
    assert error_paths(body) == {"name", "tags.1", "slug", "colour"}
    flow = make_flow()
    body = assert_problem(client.post("/v1/rego/designs/", headers=admin, json={
        "flow_id": flow["id"], "document": {"nodes": ["a\x00b"]}}), 422)
    assert error_paths(body) == {"document.nodes.0"}
    too_many = client.get("/v1/rego/flows/?limit=101", headers=admin)
    assert error_paths(assert_problem(too_many, 422)) == {"limit"}
    body = assert_problem(client.post("/v1/rego/flows/", headers=admin, json=["a list"]), 422)
    assert body["errors"]


def test_a_taken_slug_is_a_409_problem(client, admin, make_flow):
    make_flow(slug="taken")
    assert_problem(client.post("/v1/rego/flows/", json={"name": "x", "slug": "taken"}, headers=admin), 409)


def test_unknown_methods_are_405_problems(client, admin):
    assert_problem(client.delete("/v1/rego/flows/", headers=admin), 405)


# --- tenant isolation -----------------------------------------------------------------------------
def test_another_companys_objects_are_404(client, admin, stranger, make_flow, make_design):
    flow = make_flow()
    design = make_design(flow=flow)
    attempts = [
        client.get(f"/v1/rego/flows/{flow['id']}/", headers=stranger),
        client.put(f"/v1/rego/flows/{flow['id']}/", json={"name": "mine"}, headers=stranger),
        client.post("/v1/rego/designs/", json={"flow_id": flow["id"], "document": tiny()}, headers=stranger),
        client.get(f"/v1/rego/designs/{design['id']}/", headers=stranger),
        client.put(f"/v1/rego/designs/{design['id']}/", json={"name": "mine"}, headers=stranger),
        client.put(f"/v1/rego/designs/{design['id']}/mark-current/", headers=stranger),
        client.post(f"/v1/rego/designs/{design['id']}/duplicate/", headers=stranger),
        client.get(f"/v1/rego/designs/{design['id']}/expanded/", headers=stranger),
        client.get(f"/v1/rego/designs/{design['id']}/validate/", headers=stranger),
        client.get(f"/v1/rego/utility/schema/?design_id={design['id']}&node=start", headers=stranger),
    ]
    for response in attempts:
        assert_problem(response, 404)
    for path in ("/v1/rego/flows/", "/v1/rego/designs/", f"/v1/rego/designs/?flow_id={flow['id']}"):
        assert client.get(path, headers=stranger).get_json()["items"] == []
    assert client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()["name"] == flow["name"]


def test_subflows_never_resolve_to_another_companys_flow(client, admin, stranger):
    theirs = client.post("/v1/rego/flows/", json={"name": "Secret flow"}, headers=stranger).get_json()
    client.post("/v1/rego/designs/", json={"flow_id": theirs["id"], "document": tiny()}, headers=stranger)
    mine = client.post("/v1/rego/flows/", json={"name": "Mine"}, headers=admin).get_json()
    from tests.api.conftest import with_subflow

    design = client.post("/v1/rego/designs/", headers=admin, json={
        "flow_id": mine["id"], "document": with_subflow(theirs["id"])}).get_json()
    node = next(n for n in client.get(f"/v1/rego/designs/{design['id']}/expanded/", headers=admin)
                .get_json()["document"]["nodes"] if n["name"] == "child")
    assert node["expanded"] is None


# --- pagination -----------------------------------------------------------------------------------
def test_pages_have_no_duplicates_or_gaps_while_rows_are_created(client, admin, make_flow):
    existing = [make_flow(f"Flow {i}")["id"] for i in range(11)]
    numbers = count(100)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&continuation_token={token}" if token else "")
        page = client.get(f"/v1/rego/flows/{query}", headers=admin).get_json()
        seen += [f["id"] for f in page["items"]]
        pages += 1
        for _ in range(2):  # new rows arrive between every page
            make_flow(f"Flow {next(numbers)}")
        token = page["continuation_token"]
        if token is None:
            break
    assert pages == 4
    assert seen == list(reversed(existing))  # newest first, each exactly once


def test_default_and_maximum_page_sizes(client, admin, make_flow):
    for i in range(12):
        make_flow(f"F{i}")
    assert len(client.get("/v1/rego/flows/", headers=admin).get_json()["items"]) == 10
    assert len(client.get("/v1/rego/flows/?limit=100", headers=admin).get_json()["items"]) == 12
    assert_problem(client.get("/v1/rego/flows/?limit=0", headers=admin), 422)


def test_tampered_or_foreign_continuation_tokens_are_refused(client, admin, make_flow, make_design):
    for i in range(3):
        make_design(tiny(), flow=make_flow(f"P{i}"))
    flows_token = client.get("/v1/rego/flows/?limit=1", headers=admin).get_json()["continuation_token"]
    designs_token = client.get("/v1/rego/designs/?limit=1", headers=admin).get_json()["continuation_token"]
    tampered = flows_token[:-2] + ("AA" if not flows_token.endswith("AA") else "BB")
    for token, path in ((tampered, "flows"), (designs_token, "flows"), ("garbage", "designs")):
        body = assert_problem(client.get(f"/v1/rego/{path}/?continuation_token={token}", headers=admin), 422)
        assert error_paths(body) == {"continuation_token"}


# --- the OpenAPI document -------------------------------------------------------------------------
def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_is_public_3_1_and_lists_every_v1_route(app, client):
    spec = client.get("/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    routes = {(_spec_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/v1/", "/flow/api/"))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    assert routes == documented
    assert len(routes) >= 15


def test_every_operation_has_its_seed_000_summary_and_problem_errors(client):
    spec = client.get("/v1/openapi.json").get_json()
    summaries = {op["summary"] for item in spec["paths"].values() for op in item.values()
                 if isinstance(op, dict) and "responses" in op}
    assert all(summaries)
    assert {"Create Design", "List Designs", "Update Design", "Get Design", "Mark as Current Design",
            "Duplicate Design", "Get Expanded Design", "Graph Validation", "Get Schema"} <= summaries
    create = spec["paths"]["/v1/rego/designs/"]["post"]
    assert create["responses"]["422"] == {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"}
    assert "application/problem+json" in spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert spec["paths"]["/v1/openapi.json"]["get"]["security"] == []


def test_docs_page_is_public_and_runs_no_scripts(client):
    response = client.get("/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Mark as Current Design" in html and "/v1/rego/designs/{design_id}/mark-current/" in html
    assert "<script" not in html and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
