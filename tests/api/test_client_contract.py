"""What a client written from the seed pages and the OpenAPI document sees: bodies it sent the
wrong way, who-did-it fields in one format, item names as designs spell them, field-named errors."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import assert_problem, error_paths

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# start -> docs (a required PAN) -> ck (one required item, as a design writes it) -> done
CHECKED = {
    "name": "Checked", "start_node": "start",
    "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "docs"}]},
        {"name": "docs", "type": "document", "stage": "kyc",
         "config": {"documents": [{"type": "pan", "label": "PAN card", "required": True}]},
         "edges": [{"action": "submit", "type": "goto", "target_node": "ck"}]},
        {"name": "ck", "type": "checklist", "stage": "kyc",
         "config": {"items": [{"key": "kyc", "label": "KYC checked", "required": True}]},
         "edges": [{"action": "complete", "type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end", "stage": "closed"},
    ],
}


def _upload_pan(client, headers, runner):
    """A PDF for the runner's PAN: its document node then moves on to the checklist."""
    document = client.get(f"/v1/rego/documents/?runner_id={runner['id']}",
                          headers=headers).get_json()["items"][0]
    return client.post(f"/v1/rego/documents/{document['id']}/files/", headers=headers,
                       data={"files": [(io.BytesIO(PDF), "pan.pdf")]}, content_type="multipart/form-data")


@pytest.fixture
def officer(company, make_token):
    return {"Authorization": f"Bearer {make_token(company, roles=('credit_officer',), name='officer')[1]}"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_a_415_naming_the_header_and_creates_nothing(
        client, admin, content_type):
    # `curl -d '{"name": ...}'` without -H sends form-encoding: it used to answer "name: missing".
    response = client.post("/v1/rego/flows/", headers=admin, data='{"name": "Personal loan"}',
                           content_type=content_type)
    body = assert_problem(response, 415)
    assert "Content-Type: application/json" in body["detail"] and content_type in body["detail"]
    assert client.get("/v1/rego/flows/", headers=admin).get_json()["items"] == []


def test_a_decision_sent_as_text_is_refused_not_taken_without_its_body(client, admin, officer, start):
    runner = start()
    opened = client.post("/v1/rego/approvals/", headers=admin, json={
        "resource_id": runner["id"], "title": "Limit increase",
        "levels": [{"approvers": {"roles": ["credit_officer"]}}]})
    assert opened.status_code == 201, opened.get_json()
    approval = opened.get_json()
    url = f"/v1/rego/approvals/{approval['id']}/approve/"
    refused = client.post(url, headers=officer, data="comment=looks fine", content_type="text/plain")
    assert_problem(refused, 415)
    again = client.get(f"/v1/rego/approvals/{approval['id']}/", headers=officer).get_json()
    assert (again["status"], again["decisions"]) == ("pending", [])
    # A decision without any body is still one without a comment, as before.
    assert client.post(url, headers=officer).get_json()["status"] == "approved"


def test_openapi_lists_415_on_operations_with_a_json_body(client):
    paths = client.get("/v1/openapi.json").get_json()["paths"]
    assert "415" in paths["/v1/rego/flows/"]["post"]["responses"]
    assert "415" in paths["/v1/rego/runners/{runner_id}/execute/"]["post"]["responses"]
    assert "415" not in paths["/v1/rego/flows/"]["get"]["responses"]


def test_who_did_it_is_the_same_id_everywhere(client, admin, make_flow, make_design):
    """Runners and flows answered `created_by` as the token's id; approvals, checklists, documents
    and their files answered `api:<id>`, so a client comparing them saw two different callers."""
    me = client.get("/v1/whoami/", headers=admin).get_json()["id"]
    flow = make_flow()
    make_design(CHECKED, flow=flow)
    runner = client.post("/v1/rego/runners/", headers=admin, json={"flow_id": flow["id"]}).get_json()
    uploaded = _upload_pan(client, admin, runner)
    assert uploaded.status_code == 201, uploaded.get_json()
    made = client.post("/v1/rego/documents/", headers=admin,
                       json={"type": "payslip", "runner_id": runner["id"]})
    approval = client.post("/v1/rego/approvals/", headers=admin,
                           json={"resource_id": runner["id"], "title": "Check"}).get_json()
    template = client.post("/v1/rego/checklist-templates/", headers=admin,
                           json={"name": "KYC", "items": [{"title": "PAN seen"}]}).get_json()
    checklist = client.get(f"/v1/rego/checklists/?runner_id={runner['id']}",
                           headers=admin).get_json()["items"][0]
    ticked = client.put(f"/v1/rego/checklists/{checklist['id']}/items/kyc/", headers=admin,
                        json={"done": True})
    assert ticked.status_code == 200, ticked.get_json()

    assert runner["created_by"] == flow["created_by"] == me
    assert uploaded.get_json()["files"][0]["uploaded_by"] == me
    assert made.get_json()["created_by"] == me
    assert approval["created_by"] == me
    assert template["created_by"] == me
    assert ticked.get_json()["items"][0]["done_by"] == me


def test_checklist_items_answer_label_as_a_design_names_it(client, admin, make_flow, make_design):
    flow = make_flow()
    make_design(CHECKED, flow=flow)
    runner = client.post("/v1/rego/runners/", headers=admin, json={"flow_id": flow["id"]}).get_json()
    _upload_pan(client, admin, runner)
    item = client.get(f"/v1/rego/checklists/?runner_id={runner['id']}",
                      headers=admin).get_json()["items"][0]["items"][0]
    assert (item["label"], item["title"]) == ("KYC checked", "KYC checked")

    made = client.post("/v1/rego/checklist-templates/", headers=admin,
                       json={"name": "KYC", "items": [{"label": "Bank statement"}]})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["items"][0] | {"roles": []} == {
        "key": "bank_statement", "title": "Bank statement", "label": "Bank statement",
        "required": True, "roles": []}
    clash = client.post("/v1/rego/checklist-templates/", headers=admin,
                        json={"name": "KYC 2", "items": [{"title": "A", "label": "B"}]})
    assert error_paths(assert_problem(clash, 422)) == {"items.0.label"}


@pytest.mark.parametrize(("field", "value"), [("mobile", "not a number"), ("email", "not-an-email")])
def test_send_otp_names_the_field_the_client_sent(client, company, field, value):
    response = client.post("/v1/rego/customer-auth/send-otp/",
                           json={"company": company.slug, field: value})
    assert error_paths(assert_problem(response, 422)) == {field}


def test_exchange_token_refuses_two_ways_of_naming_the_customer(client, admin):
    response = client.post("/v1/rego/customer-auth/exchange-token/", headers=admin,
                           json={"mobile": "9876543210", "email": "someone@example.com"})
    body = assert_problem(response, 422)
    assert error_paths(body) == {"email"} and "not mobile and email" in body["errors"][0]["message"]


@pytest.mark.parametrize("data", ["x", [1, 2], 5])
def test_start_data_that_is_not_an_object_is_a_422_not_a_failed_runner(client, admin, flow, data):
    response = client.post("/v1/rego/runners/", headers=admin,
                           json={"flow_id": flow["id"], "data": data})
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"path": "data", "message": "Must be a JSON object (the start node stores it)."}]
    assert client.get("/v1/rego/runners/", headers=admin).get_json()["items"] == []


def test_seed001_start_data_that_is_not_an_object_is_a_422(client, admin, flow):
    response = client.post("/flow/api/runners/", headers=admin, json={
        "flow_id": flow["id"], "mobile": "9569476978", "type": "customer", "data": "contact"})
    assert error_paths(assert_problem(response, 422)) == {"data"}


def test_an_approval_level_for_a_role_nobody_holds_is_a_422(client, admin, start):
    runner = start()
    response = client.post("/v1/rego/approvals/", headers=admin, json={
        "resource_id": runner["id"], "title": "Limit",
        "levels": [{"approvers": {"roles": ["credit_oficer"]}}]})
    assert error_paths(assert_problem(response, 422)) == {"levels.0.approvers.roles.0"}
    assert client.get("/v1/rego/approvals/", headers=admin).get_json()["items"] == []


def test_approval_levels_can_be_sent_as_they_are_answered(client, admin, start):
    runner = start()
    first = client.post("/v1/rego/approvals/", headers=admin, json={
        "resource_id": runner["id"], "title": "Limit",
        "levels": [{"name": "Branch", "approvers": {"roles": ["credit_officer"]}, "min_approvals": 2}]})
    assert first.status_code == 201, first.get_json()
    levels = first.get_json()["levels"]
    again = client.post("/v1/rego/approvals/", headers=admin,
                        json={"resource_id": runner["id"], "title": "Limit again", "levels": levels})
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["levels"] == levels == [
        {"name": "Branch", "roles": ["credit_officer"], "users": [], "min_approvals": 2}]
    both = client.post("/v1/rego/approvals/", headers=admin, json={
        "resource_id": runner["id"], "title": "Both",
        "levels": [{"roles": ["admin"], "approvers": {"roles": ["admin"]}}]})
    assert error_paths(assert_problem(both, 422)) == {"levels.0.approvers"}


def test_data_that_is_not_what_the_node_takes_names_data(client, admin, start):
    runner = start()  # waits at `welcome`, whose schema is an object
    response = client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin,
                           json={"action": "auto", "data": None})
    assert error_paths(assert_problem(response, 422)) == {"data"}


@pytest.mark.parametrize("url", [
    "/v1/rego/runners/?flow_id={slug}", "/v1/rego/runners/?design_id=latest",
    "/v1/rego/designs/?flow_id={slug}", "/v1/rego/approvals/?flow_id={slug}",
    "/v1/rego/approvals/mine/?flow_id={slug}", "/v1/rego/checklists/?runner_id=RUNNER-2611-1",
    "/v1/rego/warehouse/?flow_id={slug}"])
def test_a_list_filter_that_is_not_an_id_is_a_422_not_an_empty_list(client, admin, start, flow, url):
    start()  # the flow has a runner: an empty list would have been a wrong answer
    body = assert_problem(client.get(url.format(slug=flow["slug"]), headers=admin), 422)
    (error,) = body["errors"]
    assert error["path"] in {"flow_id", "design_id", "runner_id"} and "(a UUID)" in error["message"]


def test_a_list_filter_takes_the_id_in_any_case(client, admin, start, flow):
    runner = start()
    listed = client.get(f"/v1/rego/runners/?flow_id={flow['id'].upper()}", headers=admin).get_json()
    assert [r["id"] for r in listed["items"]] == [runner["id"]]
