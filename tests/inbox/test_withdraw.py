"""Work left behind: a node left without its service (a document step moved on) closes its open
request; a request its own service completed keeps its outcome. Approval, checklist and document
nodes are never left by a person's direct action: that would skip maker-checker, required items or
required files."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.extensions import db
from app.services import approvals, checklists, documents, runners
from app.services.errors import PermissionDenied
from tests.inbox.conftest import APPROVAL, CHECKLIST, DOCUMENTS, REVIEW, Team, chain
from tests.inbox.test_api import basic
from tests.inbox.test_checklists import ITEMS
from tests.inbox.test_documents import PDF, customer_principal


def permitting(node: dict[str, Any], *actions: str) -> dict[str, Any]:
    """The node with credit officers allowed to submit `actions` directly."""
    node = copy.deepcopy(node)
    node["permissions"] = [{"roles": ["credit_officer"], "actions": list(actions)}]
    return node


def test_execute_runner_cannot_approve_past_the_inbox_even_when_the_node_permits_it(
        client, auth, team: Team, make_flow, start):
    runner = start(make_flow(chain(permitting(APPROVAL, "approve", "reject"))), {"amount": 400000})
    request = approvals.get_by_resource(team.maker, "runner", runner.id)

    response = client.post(f"/v1/rego/runners/{runner.id}/execute/", headers=basic(team.officers[0]),
                           json={"action": "approve", "node": "credit_approval", "data": {}})
    assert response.status_code == 403
    assert "decided through its approval request" in response.get_json()["detail"]
    db.session.expire_all()
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["credit_approval"]
    assert approvals.get_approval(team.maker, request.id).status == "pending"
    auth.login(team.officers[1].email)
    assert f"/inbox/approvals/{request.id}" in client.get("/inbox/").get_data(as_text=True)


def test_an_approval_decided_in_the_inbox_stays_approved(team: Team, make_flow, start):
    runner = start(make_flow(chain(APPROVAL)), {"amount": 400000})
    request = approvals.get_by_resource(team.maker, "runner", runner.id)
    approvals.approve(team.officer(0), request.id, comment="fine")
    db.session.expire_all()
    assert runners.get_runner(team.maker, runner.id).status == "succeeded"
    decided = approvals.get_approval(team.maker, request.id)
    assert decided.status == "approved" and decided.extra.get("outcome_applied") is True


def test_a_checklist_cannot_be_skipped_directly_and_a_ticked_one_stays_completed(team: Team,
                                                                                 make_flow, start):
    template = checklists.create_template(team.maker, name="Disbursal", items=ITEMS[:1])
    flow = make_flow(chain(permitting(CHECKLIST, "complete"), template_id=template.id))
    skipped, ticked = start(flow), start(flow)
    with pytest.raises(PermissionDenied, match="decided through its checklist"):
        runners.execute_runner(team.officer(0), skipped.id, action="complete", node="disbursal_checks")
    db.session.expire_all()
    assert checklists.checklist_at_stage(team.maker, skipped.id, "disbursal").status == "open"
    assert any(c.runner_id == skipped.id for c in checklists.open_tasks(team.officer(1)))

    opened = checklists.checklist_at_stage(team.maker, ticked.id)
    checklists.set_item(team.officer(0), opened.id, opened.items[0].key, done=True)
    db.session.expire_all()
    assert runners.get_runner(team.maker, ticked.id).status == "succeeded"
    assert checklists.get_checklist(team.maker, opened.id).status == "completed"


def test_a_document_step_cannot_be_submitted_without_its_files_even_when_the_node_permits_it(
        client, team: Team, make_flow, start):
    customer = customer_principal(team)
    runner = start(make_flow(chain(permitting(DOCUMENTS, "submit"), REVIEW)), {"amount": 1},
                   customer_id=customer.id)
    response = client.post(f"/v1/rego/runners/{runner.id}/execute/", headers=basic(team.officers[0]),
                           json={"action": "submit", "node": "kyc_documents", "data": {}})
    assert response.status_code == 403
    assert "once every required one has a file" in response.get_json()["detail"]
    db.session.expire_all()
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["kyc_documents"]
    statuses = {d.doc_type: d.status for d in documents.list_documents(team.maker, runner.id)}
    assert statuses == {"pan": "requested", "photo": "requested"}


def test_documents_moved_on_without_files_are_withdrawn_and_asked_again_on_return(team: Team,
                                                                                  make_flow, start):
    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS, REVIEW)), {"amount": 1}, customer_id=customer.id)
    # Only a trusted service moves a document step on without its files (people are refused above).
    runners.execute_runner(team.officer(0), runner.id, action="submit", node="kyc_documents",
                           as_system=True)
    db.session.expire_all()
    statuses = {d.doc_type: d.status for d in documents.list_documents(team.maker, runner.id)}
    assert statuses == {"pan": "withdrawn", "photo": "withdrawn"}

    # The review sends the runner back (e.g. a re-upload): the same documents are asked for again.
    runners.execute_runner(team.officer(0), runner.id, action="reupload", node="review", as_system=True)
    db.session.expire_all()
    docs = {d.doc_type: d for d in documents.list_documents(team.maker, runner.id)}
    assert {t: d.status for t, d in docs.items()} == {"pan": "requested", "photo": "requested"}
    documents.add_file(customer, docs["pan"].id, filename="pan.pdf", data=PDF)
    db.session.expire_all()
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["review"]
    after = {d.doc_type: d.status for d in documents.list_documents(team.maker, runner.id)}
    assert after == {"pan": "uploaded", "photo": "requested"}  # completed by the service: left alone
