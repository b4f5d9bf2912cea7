"""Inbox pages: the list with filters and overdue highlighted, htmx decisions, the request page."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import ApprovalRequest
from app.services import approvals, checklists, documents
from tests.conftest import csrf_from
from tests.inbox.conftest import CHECKLIST, Team, chain
from tests.inbox.test_documents import PNG, customer_principal

HTMX = {"HX-Request": "true"}


def decide(client, approval_id: str, decision: str, comment: str = "", headers=None):
    db.session.expire_all()  # the test's session must not answer from its cache afterwards
    page = client.get("/inbox/").get_data(as_text=True)
    prefix = f"a-{approval_id}"
    version = re.search(rf'name="{prefix}-version"[^>]*value="(\d+)"', page)
    response = client.post(f"/inbox/approvals/{approval_id}/decide", headers=headers or {}, data={
        "csrf_token": csrf_from(page), f"{prefix}-comment": comment, f"{prefix}-decision": decision,
        f"{prefix}-version": version.group(1) if version else ""})
    db.session.expire_all()
    return response


def test_only_deciders_open_the_inbox(client, auth, team: Team):
    auth.login(team.viewer.email)
    assert client.get("/inbox/").status_code == 403


def test_the_inbox_lists_what_i_can_decide_with_overdue_highlighted(client, auth, team: Team,
                                                                   approval_runner):
    _, request = approval_runner(400000)
    db.session.execute(ApprovalRequest.__table__.update().where(ApprovalRequest.id == request.id)
                       .values(due_at=request.created_at - timedelta(minutes=5)))
    db.session.commit()
    auth.login(team.officers[0].email)
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Loan of 400000" in page and "Overdue" in page and 'class="card approval overdue"' in page
    assert '<span id="inbox-count" class="count">1</span>' in page
    assert "Loan of 400000" not in client.get("/inbox/?stage=closed").get_data(as_text=True)
    fragment = client.get("/inbox/?sort=overdue", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="inbox-list"') and "Loan of 400000" in fragment


def test_the_maker_does_not_see_their_own_request(client, auth, team: Team, approval_runner):
    approval_runner(400000)
    auth.login(team.admin.email)
    assert "Loan of 400000" not in client.get("/inbox/").get_data(as_text=True)


def test_an_htmx_approval_swaps_the_card_out_and_updates_the_count(client, auth, team: Team, approval_runner):
    _, request = approval_runner(400000)
    auth.login(team.officers[0].email)
    response = decide(client, request.id, "approve", "Looks good", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<article" not in body  # the card is replaced by nothing
    assert 'id="inbox-count"' in body and 'hx-swap-oob="true"' in body and ">0<" in body
    assert approvals.get_approval(team.maker, request.id).status == "approved"


def test_an_htmx_rejection_without_comment_keeps_the_card_with_the_error(client, auth, team: Team,
                                                                          approval_runner):
    _, request = approval_runner(400000)
    auth.login(team.officers[0].email)
    body = decide(client, request.id, "reject", "", headers=HTMX).get_data(as_text=True)
    assert f'id="approval-{request.id}"' in body and "needs a comment" in body
    assert approvals.get_approval(team.maker, request.id).status == "pending"
    decide(client, request.id, "reject", "Income not proven")
    decided = approvals.get_approval(team.maker, request.id)
    assert decided.status == "rejected" and decided.decisions[0].comment == "Income not proven"


def test_the_request_page_shows_fields_documents_checklist_and_history(client, auth, team: Team,
                                                                        approval_runner, make_flow, start):
    runner, request = approval_runner(600000)
    photo = documents.create_document(team.officer(0), doc_type="photo", label="Photo", runner_id=runner.id)
    stored = documents.add_file(team.officer(0), photo.id, filename="face.png", data=PNG)
    approvals.approve(team.officer(0), request.id, comment="L1 fine")
    auth.login(team.officers[1].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    assert "Asha Rao" in page and "600000" in page  # the configured store fields
    assert f'/inbox/documents/{photo.id}/files/{stored.id}?inline=1' in page and "<img" in page
    assert "L1 fine" in page and "Officer 1" in page  # history
    assert 'value="approve"' in page  # officer 2 may decide L2
    preview = client.get(f"/inbox/documents/{photo.id}/files/{stored.id}?inline=1")
    assert preview.mimetype == "image/png" and preview.headers["Content-Disposition"].startswith("inline")
    auth.logout()
    auth.login(team.officers[0].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    assert "earlier level" in page and 'value="approve"' not in page


def test_ticking_a_checklist_from_the_inbox(client, auth, team: Team, make_flow, start):
    template = checklists.create_template(team.maker, name="T", items=[{"title": "KYC checked"}])
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    checklist = checklists.checklist_at_stage(team.maker, runner.id)
    auth.login(team.officers[0].email)
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Before disbursal" in page and "KYC checked" in page
    body = client.post(f"/inbox/checklists/{checklist.id}/items/kyc_checked", headers=HTMX,
                       data={"csrf_token": csrf_from(page), "done": "1"}).get_data(as_text=True)
    assert "(completed)" in body and "by Officer 1" in body
    assert "Before disbursal" not in client.get("/inbox/").get_data(as_text=True)


def test_downloads_need_a_session_and_the_runner(client, auth, team: Team, approval_runner):
    runner, _ = approval_runner(400000)
    customer_principal(team)
    doc = documents.create_document(team.officer(0), doc_type="x", runner_id=runner.id)
    stored = documents.add_file(team.officer(0), doc.id, filename="x.png", data=PNG)
    url = f"/inbox/documents/{doc.id}/files/{stored.id}"
    assert client.get(url).status_code == 302  # to the login page
    auth.login(team.viewer.email)
    attached = client.get(url)
    assert attached.status_code == 200 and attached.headers["Content-Disposition"].startswith("attachment")
