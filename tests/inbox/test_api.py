"""The approvals, checklists and documents API: seed-000 names, problems, conflicts, isolation."""

from __future__ import annotations

import base64
import io

import pytest

from tests.api.conftest import assert_problem
from tests.inbox.conftest import CHECKLIST, DOCUMENTS, Team, chain
from tests.inbox.test_documents import PDF, PNG, customer_principal

SEED_NAMES = {
    "Approval List", "Pending Approval", "Create Approvals", "Get Approval", "Update Approvals",
    "Current user approval list", "Get approval request by resource", "Approve approval",
    "Reject Approval", "Create Checklist Template", "Get CheckList Template", "List CheckList Template",
    "Update CheckList Template", "Delete CheckList Template", "Get checklist at runner stage",
    "Update Check List Item", "List Checklist", "Get Checklist", "Create Document",
    "Get Storage Document", "Add files to document", "Download files",
}
PASSWORD = "correct horse battery staple"


def basic(user) -> dict[str, str]:
    raw = base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_every_seed_operation_is_in_the_openapi_document(client):
    spec = client.get("/v1/openapi.json").get_json()
    summaries = {op["summary"] for item in spec["paths"].values() for op in item.values()
                 if isinstance(op, dict) and "summary" in op}
    assert summaries >= SEED_NAMES


def test_approve_then_approve_again_is_a_conflict_problem(client, team: Team, approval_runner):
    runner, request = approval_runner(400000)
    officer = basic(team.officers[0])
    mine = client.get("/v1/rego/approvals/mine/", headers=officer).get_json()["items"]
    assert [r["id"] for r in mine] == [request.id]
    by_resource = client.get(f"/v1/rego/approvals/resource/runner/{runner.id}/", headers=officer)
    assert by_resource.get_json()["id"] == request.id and by_resource.get_json()["fields"] == [
        "applicant.name", "amount"]
    done = client.post(f"/v1/rego/approvals/{request.id}/approve/", json={"comment": "fine"}, headers=officer)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "approved"
    assert done.get_json()["decisions"][0]["actor_name"] == "Officer 1"
    again = client.post(f"/v1/rego/approvals/{request.id}/approve/", json={}, headers=basic(team.officers[1]))
    assert "already approved" in assert_problem(again, 409)["detail"]


def test_reject_needs_a_comment_and_maker_checker_is_a_403(client, team: Team, approval_runner):
    _, request = approval_runner(400000)
    officer = basic(team.officers[0])
    missing = client.post(f"/v1/rego/approvals/{request.id}/reject/", json={}, headers=officer)
    assert assert_problem(missing, 422)["errors"][0]["path"] == "comment"
    maker = client.post(f"/v1/rego/approvals/{request.id}/approve/", json={}, headers=basic(team.admin))
    assert_problem(maker, 403)
    rejected = client.post(f"/v1/rego/approvals/{request.id}/reject/", json={"comment": "no income proof"},
                           headers=basic(team.officers[0]))
    assert rejected.get_json()["status"] == "rejected"


def test_lists_paginate_and_filter_and_stay_in_the_tenant(client, team: Team, approval_runner, make_token):
    for _ in range(3):
        approval_runner(400000)
    first = client.get("/v1/rego/approvals/pending/?limit=2", headers=basic(team.admin)).get_json()
    assert len(first["items"]) == 2 and first["continuation_token"]
    token = first["continuation_token"]
    rest = client.get(f"/v1/rego/approvals/?status=pending&limit=2&continuation_token={token}",
                      headers=basic(team.admin)).get_json()
    assert len(rest["items"]) == 1 and rest["continuation_token"] is None
    _, other = make_token(roles=("admin",))
    outsider = {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/rego/approvals/", headers=outsider).get_json()["items"] == []
    assert_problem(client.get(f"/v1/rego/approvals/{first['items'][0]['id']}/", headers=outsider), 404)


def test_create_update_and_idempotent_create(client, team: Team):
    body = {"resource_type": "loan", "resource_id": "LN-9", "title": "Fee waiver",
            "levels": [{"name": "Head", "approvers": {"roles": ["credit_officer"]}}], "fields": ["amount"]}
    headers = {**basic(team.admin), "Idempotency-Key": "waiver-1"}
    created = client.post("/v1/rego/approvals/", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    replay = client.post("/v1/rego/approvals/", json=body, headers=headers)
    assert replay.get_json()["id"] == created.get_json()["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    approval_id = created.get_json()["id"]
    updated = client.put(f"/v1/rego/approvals/{approval_id}/", json={"title": "Fee waiver (revised)"},
                         headers=basic(team.admin))
    assert updated.get_json()["title"] == "Fee waiver (revised)"
    assert_problem(client.put(f"/v1/rego/approvals/{approval_id}/", json={"title": ""},
                              headers=basic(team.admin)), 422)


def test_checklist_templates_crud_and_ticking_through_the_api(client, team: Team, make_flow, start):
    admin = basic(team.admin)
    created = client.post("/v1/rego/checklist-templates/", json={
        "name": "Disbursal", "items": [{"title": "Bank account verified"}]}, headers=admin)
    assert created.status_code == 201, created.get_data(as_text=True)
    template_id = created.get_json()["id"]
    listed = client.get("/v1/rego/checklist-templates/", headers=admin).get_json()
    assert listed["items"][0]["id"] == template_id
    renamed = client.put(f"/v1/rego/checklist-templates/{template_id}/", json={"name": "Disbursal v2"},
                         headers=admin)
    assert renamed.get_json()["name"] == "Disbursal v2"
    runner = start(make_flow(chain(CHECKLIST, template_id=template_id)))
    at_stage = client.get(f"/v1/rego/runners/{runner.id}/checklist/", headers=admin).get_json()
    assert at_stage["stage"] == "disbursal" and at_stage["items"][0]["done"] is False
    listed = client.get(f"/v1/rego/checklists/?runner_id={runner.id}", headers=admin).get_json()
    assert [c["id"] for c in listed["items"]] == [at_stage["id"]]
    ticked = client.put(f"/v1/rego/checklists/{at_stage['id']}/items/bank_account_verified/",
                        json={"done": True}, headers=basic(team.officers[0]))
    assert ticked.get_json()["status"] == "completed"
    assert ticked.get_json()["items"][0]["done_by_name"] == "Officer 1"
    closed = client.put(f"/v1/rego/checklists/{at_stage['id']}/items/bank_account_verified/",
                        json={"done": False}, headers=basic(team.officers[0]))
    assert_problem(closed, 409)
    # Its flow's current version still opens checklists from it (tests/inbox/test_template_in_use.py).
    assert_problem(client.delete(f"/v1/rego/checklist-templates/{template_id}/", headers=admin), 409)
    unused = client.post("/v1/rego/checklist-templates/", json={
        "name": "Spare", "items": [{"title": "Spare"}]}, headers=admin).get_json()["id"]
    assert client.delete(f"/v1/rego/checklist-templates/{unused}/", headers=admin).status_code == 204
    assert_problem(client.get(f"/v1/rego/checklist-templates/{unused}/", headers=admin), 404)


@pytest.fixture
def document(team: Team, make_flow, start):
    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS)), {"amount": 1}, customer_id=customer.id)
    from app.services import documents

    return {d.doc_type: d for d in documents.list_documents(team.maker, runner.id)}["pan"]


def test_documents_upload_and_download_with_safe_headers(client, team: Team, document):
    officer = basic(team.officers[0])
    upload = client.post(f"/v1/rego/documents/{document.id}/files/", headers=officer,
                         data={"files": [(io.BytesIO(PDF), "PAN card.exe")]},
                         content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_data(as_text=True)
    body = upload.get_json()
    assert body["status"] == "uploaded" and body["files"][0]["filename"] == "PAN_card.pdf"
    file_id = body["files"][0]["id"]
    url = f"/v1/rego/documents/{document.id}/files/{file_id}/"
    attached = client.get(url, headers=officer)
    assert attached.data == PDF and attached.mimetype == "application/pdf"
    assert attached.headers["Content-Disposition"].startswith("attachment")
    assert attached.headers["X-Content-Type-Options"] == "nosniff"
    inline = client.get(url + "?inline=true", headers=officer)
    assert inline.headers["Content-Disposition"].startswith("inline")
    assert "default-src 'none'" in inline.headers["Content-Security-Policy"]
    got = client.get(f"/v1/rego/documents/{document.id}/", headers=basic(team.viewer)).get_json()
    assert got["type"] == "pan" and got["files"][0]["content_type"] == "application/pdf"


def test_uploads_refuse_unknown_content_and_other_tenants(client, team: Team, document, make_token):
    bad = client.post(f"/v1/rego/documents/{document.id}/files/", headers=basic(team.officers[0]),
                      data={"files": [(io.BytesIO(b"#!/bin/sh\nrm -rf /"), "x.png")]},
                      content_type="multipart/form-data")
    assert assert_problem(bad, 422)["errors"][0]["path"] == "file"
    _, other = make_token(roles=("admin",))
    outsider = {"Authorization": f"Bearer {other}"}
    assert_problem(client.get(f"/v1/rego/documents/{document.id}/", headers=outsider), 404)
    created = client.post("/v1/rego/documents/", json={"type": "itr", "runner_id": document.runner_id},
                          headers=basic(team.officers[0]))
    assert created.status_code == 201 and created.get_json()["status"] == "requested"
    new_id = created.get_json()["id"]
    png = client.post(f"/v1/rego/documents/{new_id}/files/", headers=basic(team.officers[0]),
                      data={"files": [(io.BytesIO(PNG), "scan.png")]},
                      content_type="multipart/form-data")
    assert png.get_json()["files"][0]["content_type"] == "image/png"
