"""The request page and inbox as a reviewer found them: readable fields and customer, re-uploads that
say they withdraw the request, a withdrawn request that offers nothing, checklists that warn before
completing, decisions that say what they did, and rejections audited under their real name."""

from __future__ import annotations

import copy
import html
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Customer
from app.services import approvals, checklists, documents, runners
from tests.conftest import csrf_from
from tests.inbox.conftest import APPROVAL, CHECKLIST, Team, chain
from tests.inbox.test_documents import PNG
from tests.inbox.test_pages import HTMX, decide

# A form that stores its data under `applicant`, with titles for some of its fields.
DETAILS = {
    "name": "details", "type": "form", "stage": "details",
    "config": {"store_as": "applicant", "schema": {"type": "object", "properties": {
        "full_name": {"type": "string", "title": "Full name"},
        "monthly_income": {"type": "number"},
        "employment": {"type": "string", "title": "Employment", "enum": ["salaried", "self_employed"],
                       "enumNames": ["Salaried", "Self-employed"]},
        "address": {"type": "object", "properties": {
            "city": {"type": "string", "title": "City"},
            "state": {"type": "string", "title": "State", "oneOf": [
                {"const": "MAHARASHTRA", "title": "Maharashtra"}, {"const": "GOA", "title": "Goa"}]}}}}}},
    "edges": [{"action": "submit", "type": "goto", "target_node": "NEXT"}],
}


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_fields_are_labelled_from_the_form_titles_and_the_customer_is_named(
        client, auth, team: Team, make_flow, start):
    node = copy.deepcopy(APPROVAL)
    node["config"]["metadata"]["fields"] = ["applicant.full_name", "applicant.monthly_income",
                                            "store.applicant.address.city", "applicant.employment",
                                            "applicant.address.state"]
    customer = Customer(company_id=team.company.id, mobile="+919876500001")  # no name on record
    db.session.add(customer)
    db.session.commit()
    runner = start(make_flow(chain(node, DETAILS)), {"amount": 1000, "applicant": {
        "full_name": "Priya Sharma", "monthly_income": 85000, "employment": "self_employed",
        "address": {"city": "Pune", "state": "MAHARASHTRA"}}},
        customer_id=customer.id)
    request = approvals.get_by_resource(team.maker, "runner", runner.id)
    auth.login(team.officers[0].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    text = text_of(page)
    assert "Full name Priya Sharma" in text  # the form's title
    assert "Monthly income 85000" in text  # no title: the last segment, readable
    assert "City Pune" in text  # a nested property's title, asked with a `store.` prefix
    assert "Employment Self-employed" in text and "self_employed" not in text  # enum + enumNames
    assert "State Maharashtra" in text and "MAHARASHTRA" not in text  # oneOf const/title
    assert ">applicant.full_name<" not in page
    assert "Customer Priya Sharma · +919876500001" in text  # the application's name, no dash
    assert '<dl class="facts">' in page
    assert f'<a href="/runners/{runner.id}">{runner.ref_id}</a>' in page


def test_the_customers_own_name_wins_over_the_application(client, auth, team: Team, review):
    _, _, request = review
    auth.login(team.officers[1].email)
    text = text_of(client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True))
    assert "Customer Asha Rao · +919800000001" in text


def test_asking_for_a_reupload_says_it_withdraws_the_request_and_then_nothing_is_offered(
        client, auth, team: Team, review):
    _, pan, request = review
    auth.login(team.officers[1].email)
    url = f"/inbox/approvals/{request.id}"
    page = client.get(url).get_data(as_text=True)
    assert "This withdraws this approval request" in text_of(page)  # next to the button
    confirm = re.search(r'data-confirm="([^"]*)">Ask for a re-upload', page)
    assert confirm and "withdraws this approval request" in html.unescape(confirm.group(1))
    assert "Mark PAN card verified" in page and 'value="approve"' in page

    asked = client.post(f"/inbox/documents/{pan.id}/reupload", headers={"Referer": url},
                        data={"csrf_token": csrf_from(page), "note": "Blurred"}, follow_redirects=True)
    text = text_of(asked.get_data(as_text=True))
    assert "Asked the customer for PAN card again. The approval request was withdrawn" in text
    assert "This request was withdrawn" in text
    assert "A new request opens when the runner reaches the review again" in text
    for offered in ('value="approve"', "Mark PAN card verified", "Ask for a re-upload", 'name="note"'):
        assert offered not in asked.get_data(as_text=True), offered
    db.session.expire_all()
    assert approvals.get_approval(team.maker, request.id).status == "withdrawn"

    db.session.expire_all()
    documents.add_file(team.officer(0), pan.id, filename="pan2.png", data=PNG)  # the runner comes back
    fresh = approvals.successor(team.maker, approvals.get_approval(team.maker, request.id))
    assert fresh is not None and fresh.status == "pending"
    page = client.get(url).get_data(as_text=True)
    assert f'href="/inbox/approvals/{fresh.id}"' in page and "The review started afresh" in text_of(page)


def test_mark_verified_is_offered_only_where_it_changes_something(client, auth, team: Team, review):
    _, pan, request = review
    auth.login(team.officers[1].email)
    url = f"/inbox/approvals/{request.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Mark PAN card verified" in page
    client.post(f"/inbox/documents/{pan.id}/verify", headers={"Referer": url},
                data={"csrf_token": csrf_from(page)})
    page = client.get(url).get_data(as_text=True)
    db.session.expire_all()
    assert documents.get_document(team.maker, pan.id).status == "verified"
    assert "Mark PAN card verified" not in page and "Verified by Officer 2" in page
    assert "Ask for a re-upload of PAN card" in page  # still possible while the request is open


def test_a_checklist_warns_up_front_and_confirms_only_the_completing_tick(client, auth, team: Team,
                                                                           make_flow, start):
    template = checklists.create_template(team.maker, name="T", items=[
        {"title": "KYC checked"}, {"title": "Bank verified"}, {"title": "Reference call", "required": False}])
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    checklist = checklists.checklist_at_stage(team.maker, runner.id)
    auth.login(team.officers[0].email)
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Ticking the last required item completes this checklist and moves the runner on" in text_of(page)
    assert "data-confirm" not in page  # two required items are open: no single tick completes it
    client.post(f"/inbox/checklists/{checklist.id}/items/kyc_checked",
                data={"csrf_token": csrf_from(page), "done": "1"})
    page = client.get("/inbox/").get_data(as_text=True)
    confirms = re.findall(r'data-confirm="([^"]*)">Tick “([^”]*)”', page)
    assert [title for _, title in confirms] == ["Bank verified"]  # not the optional one
    assert "moves the runner on" in html.unescape(confirms[0][0])

    body = client.post(f"/inbox/checklists/{checklist.id}/items/bank_verified", headers=HTMX, data={
        "csrf_token": csrf_from(page), "done": "1", "in_inbox": "1"}).get_data(as_text=True)
    assert "(completed)" in body and "Ticking the last required item" not in body
    assert 'id="inbox-status" hx-swap-oob="innerHTML"' in body and "“Before disbursal” is complete" in body
    assert '<span id="inbox-count" class="count zero" hx-swap-oob="true">0</span>' in body


def test_an_htmx_decision_says_what_was_decided_and_updates_the_top_bar(client, auth, team: Team,
                                                                       approval_runner):
    _, big = approval_runner(600000)
    _, small = approval_runner(400000)
    auth.login(team.officers[0].email)
    page = client.get("/inbox/").get_data(as_text=True)
    assert '<div id="inbox-status" class="inbox-status" role="status" aria-live="polite"></div>' in page
    assert 'class="card filters inbox-filters"' in page and "/static/css/inbox.css" in page
    assert 'aria-label="2 waiting">2</span>' in page  # the top bar's badge

    body = decide(client, big.id, "approve", "Fine", headers=HTMX).get_data(as_text=True)
    status = re.search(r'<div id="inbox-status" hx-swap-oob="innerHTML">(.*?)</div>', body, re.S)
    assert status and "Approved level L1 of “Loan of 600000”; level L2 decides next." in status.group(1)
    badge = re.search(r"""<span hx-swap-oob='innerHTML:\.topbar nav a\[href="/inbox/"\]'>(.*?)</span>\n""",
                      body, re.S)
    assert badge and 'aria-label="1 waiting">1</span>' in badge.group(1)

    body = decide(client, small.id, "reject", "Income not proven", headers=HTMX).get_data(as_text=True)
    assert "Rejected “Loan of 400000”." in body
    badge = re.search(r"""<span hx-swap-oob='innerHTML:[^']*'>(.*?)</span>\n""", body, re.S)
    assert badge and badge.group(1) == "Inbox"  # nothing waits: no badge


def test_a_decision_on_the_request_page_flashes_what_it_did(client, auth, team: Team, approval_runner):
    _, request = approval_runner(400000)
    auth.login(team.officers[0].email)
    decided = decide(client, request.id, "approve", "Fine")
    page = client.get(decided.headers["Location"]).get_data(as_text=True)
    assert "Approved “Loan of 400000”." in text_of(page)


def test_rejections_are_audited_as_rejected(team: Team, approval_runner):
    _, approved = approval_runner(400000)
    _, rejected = approval_runner(400000)
    approvals.approve(team.officer(0), approved.id)
    approvals.reject(team.officer(0), rejected.id, comment="No")
    actions = dict(db.session.execute(select(AuditEntry.target_id, AuditEntry.action).where(
        AuditEntry.target_id.in_([approved.id, rejected.id]))).all())
    assert actions == {approved.id: "approval.approved", rejected.id: "approval.rejected"}


def test_a_request_withdrawn_by_a_cancel_says_the_runner_ended_and_keeps_its_first_level(
        client, auth, team: Team, approval_runner):
    runner, request = approval_runner(600000)  # two levels
    approvals.approve(team.officer(0), request.id, comment="Income checked")
    runners.cancel_runner(team.maker, runner.id, reason="customer withdrew")
    auth.login(team.officers[1].email)
    text = text_of(client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True))
    assert "The runner ended (cancelled: customer withdrew) before this request was fully decided" in text
    assert "the 1 decision made so far is kept in the history below" in text
    assert "A new request opens" not in text and "before anyone decided it" not in text


def test_a_re_uploaded_file_under_the_same_name_shows_first_as_the_latest(client, auth, team: Team,
                                                                          review):
    _, pan, request = review
    documents.request_reupload(team.officer(0), pan.id, note="Blurred")
    db.session.expire_all()
    documents.add_file(team.officer(0), pan.id, filename="pan.png", data=PNG)  # the same name again
    fresh = approvals.successor(team.maker, approvals.get_approval(team.maker, request.id))
    auth.login(team.officers[1].email)
    page = client.get(f"/inbox/approvals/{fresh.id}").get_data(as_text=True)
    files = sorted(documents.get_document(team.maker, pan.id).files, key=lambda f: f.uploaded_at)
    first, latest = (f"/inbox/documents/{pan.id}/files/{f.id}" for f in files)
    # The latest comes first, says so, and is the one previewed; the earlier one is listed under it.
    assert page.index(f'href="{latest}"') < page.index("Earlier uploads") < page.index(f'href="{first}"')
    assert "· latest" in text_of(page) and page.count('class="preview"') == 1
    assert f'src="{latest}?inline=1"' in page and f'src="{first}?inline=1"' not in page
