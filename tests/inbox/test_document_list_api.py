"""A client finds the documents a runner's document node asks for, uploads to them, and the node
moves on: the whole document step through the API, with no database access."""

from __future__ import annotations

import io

from tests.api.conftest import assert_problem, error_paths
from tests.inbox.conftest import DOCUMENTS, REVIEW, Team, chain
from tests.inbox.test_api import basic
from tests.inbox.test_documents import PNG, customer_principal


def test_list_documents_gives_the_nodes_documents_to_upload_to(client, team: Team, make_flow, start):
    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS, REVIEW)), {"amount": 1}, customer_id=customer.id)
    officer = basic(team.officers[0])
    listed = client.get(f"/v1/rego/documents/?runner_id={runner.id}&node=kyc_documents", headers=officer)
    assert listed.status_code == 200, listed.get_json()
    items = {d["type"]: d for d in listed.get_json()["items"]}
    assert {(t, d["required"], d["status"]) for t, d in items.items()} == {
        ("pan", True, "requested"), ("photo", False, "requested")}
    pan = items["pan"]["id"]
    uploaded = client.post(f"/v1/rego/documents/{pan}/files/", headers=officer,
                           data={"files": (io.BytesIO(PNG), "pan.png")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    moved = client.get(f"/v1/rego/runners/{runner.id}/", headers=officer).get_json()
    assert moved["current_nodes"] == ["review"]  # every required document has a file


def test_list_documents_needs_a_runner_the_caller_may_see(client, team: Team):
    officer = basic(team.officers[0])
    assert error_paths(assert_problem(client.get("/v1/rego/documents/", headers=officer), 422)) == {
        "runner_id"}
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/v1/rego/documents/?runner_id={unknown}", headers=officer), 404)
