"""The request page after a reviewer's walk-through: verifying a document answers htmx with that
document only, a fresh request says which withdrawn one it follows and why, a document uploaded
again warns (without blocking) until verified, statuses read as words, and decisions ask first."""

from __future__ import annotations

import html
import re

from app.extensions import db
from app.models import Customer, Runner
from app.services import approvals, documents
from app.services.principal import Principal
from tests.conftest import csrf_from
from tests.inbox.conftest import Team
from tests.inbox.test_documents import PNG
from tests.inbox.test_pages import HTMX, decide
from tests.inbox.test_review_page import text_of

WARNING = "PAN card was uploaded again and is not verified yet."


def customer_of(runner: Runner) -> Principal:
    customer = db.session.get(Customer, runner.customer_id)
    return Principal("customer", customer.id, customer.company_id, frozenset({"customer"}), customer.name)


def asked_again_and_uploaded(team: Team, review) -> tuple[object, object]:
    """Officer 2 asks for the PAN again ("Blurred"), which withdraws the request; the customer
    uploads again, which opens a fresh one. Returns (withdrawn, fresh)."""
    runner, pan, request = review
    documents.request_reupload(team.officer(1), pan.id, note="Blurred")
    db.session.expire_all()
    documents.add_file(customer_of(runner), pan.id, filename="pan2.png", data=PNG)
    withdrawn = approvals.get_approval(team.maker, request.id)
    fresh = approvals.successor(team.maker, withdrawn)
    assert withdrawn.status == "withdrawn" and fresh is not None and fresh.status == "pending"
    return withdrawn, fresh


def test_verifying_by_htmx_answers_with_that_document_only(client, auth, team: Team, review):
    _, pan, request = review
    auth.login(team.officers[1].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    form = re.search(rf'<form[^>]*action="/inbox/documents/{pan.id}/verify"[^>]*>', page).group(0)
    assert f'hx-post="/inbox/documents/{pan.id}/verify"' in form
    assert f'hx-target="#document-{pan.id}"' in form and 'hx-swap="outerHTML"' in form
    assert f'<article class="document" id="document-{pan.id}">' in page

    body = client.post(f"/inbox/documents/{pan.id}/verify", headers=HTMX,
                       data={"csrf_token": csrf_from(page), "approval": request.id}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<article class="document" id="document-{pan.id}">')
    assert "PAN card (verified, required)" in text_of(body) and "Verified by Officer 2." in body
    assert "Mark PAN card verified" not in body and "Ask for a re-upload of PAN card" in body
    assert "<html" not in body and "Decision" not in body
    assert ('<div id="inbox-status" hx-swap-oob="innerHTML"><p class="flash flash-success">'
            'PAN card verified.') in body
    assert '<div id="reupload-warnings" hx-swap-oob="true">' in body
    db.session.expire_all()
    assert documents.get_document(team.maker, pan.id).status == "verified"
    assert 'id="inbox-status"' in page and 'id="reupload-warnings"' in page  # the targets out of band


def test_verifying_without_javascript_still_redirects_back(client, auth, team: Team, review):
    _, pan, request = review
    auth.login(team.officers[1].email)
    url = f"/inbox/approvals/{request.id}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(f"/inbox/documents/{pan.id}/verify", headers={"Referer": url},
                           data={"csrf_token": csrf_from(page), "approval": request.id})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert "PAN card verified." in client.get(url).get_data(as_text=True)


def test_an_htmx_verify_that_fails_says_why_in_the_document(client, auth, team: Team, review):
    runner, _, request = review
    photo = next(d for d in documents.list_documents(team.maker, runner.id) if d.doc_type == "photo")
    auth.login(team.officers[1].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    body = client.post(f"/inbox/documents/{photo.id}/verify", headers=HTMX,
                       data={"csrf_token": csrf_from(page), "approval": request.id}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<article class="document" id="document-{photo.id}">')
    assert 'role="alert">There is no file to verify yet.' in body
    assert 'hx-swap-oob="innerHTML"' not in body  # no "verified" status line
    db.session.expire_all()
    assert documents.get_document(team.maker, photo.id).status == "requested"


def test_the_fresh_request_says_which_request_it_follows_and_why(client, auth, team: Team, review):
    withdrawn, fresh = asked_again_and_uploaded(team, review)
    auth.login(team.officers[0].email)
    page = client.get(f"/inbox/approvals/{fresh.id}").get_data(as_text=True)
    history = page[page.index('id="hist-h"'):page.index('id="decide-h"')]
    link = re.search(r'Follows request <a href="([^"]+)">“Loan of 1000”\s+of [^<]+ UTC</a>'
                     r', withdrawn when Officer 2 asked for PAN card again: Blurred\.', history)
    assert link and link.group(1) == f"/inbox/approvals/{withdrawn.id}"
    assert "No decisions yet." not in history and "No decisions on this request yet." in text_of(history)
    # The withdrawn request has none before it: it says nothing of the kind.
    assert "Follows request" not in client.get(f"/inbox/approvals/{withdrawn.id}").get_data(as_text=True)


def test_a_document_uploaded_again_warns_near_approve_until_verified(client, auth, team: Team, review):
    _, fresh = asked_again_and_uploaded(team, review)
    _, pan, _ = review
    auth.login(team.officers[0].email)
    url = f"/inbox/approvals/{fresh.id}"
    page = client.get(url).get_data(as_text=True)
    decision = page[page.index('id="decide-h"'):]
    assert WARNING in decision and decision.index(WARNING) < decision.index('value="approve"')
    assert "PAN card (uploaded, required)" in text_of(page)

    body = client.post(f"/inbox/documents/{pan.id}/verify", headers=HTMX,
                       data={"csrf_token": csrf_from(page), "approval": fresh.id}).get_data(as_text=True)
    warnings = re.search(r'<div id="reupload-warnings" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert warnings and warnings.group(1).strip() == ""  # the warning goes as the PAN is verified
    assert WARNING not in client.get(url).get_data(as_text=True)


def test_the_warning_does_not_block_approving(client, auth, team: Team, review):
    _, fresh = asked_again_and_uploaded(team, review)
    auth.login(team.officers[0].email)
    assert WARNING in client.get(f"/inbox/approvals/{fresh.id}").get_data(as_text=True)
    assert decide(client, fresh.id, "approve").status_code == 302
    assert approvals.get_approval(team.maker, fresh.id).status == "approved"


def test_document_statuses_read_as_words(client, auth, team: Team, review):
    _, pan, request = review
    auth.login(team.officers[1].email)
    url = f"/inbox/approvals/{request.id}"
    assert "Photo (requested)" in text_of(client.get(url).get_data(as_text=True))
    documents.request_reupload(team.officer(1), pan.id, note="Blurred")
    text = text_of(client.get(url).get_data(as_text=True))
    assert "PAN card (asked again, required)" in text and "reupload" not in text
    assert "Asked again: Blurred" in text


def test_a_decision_comment_follows_the_name_without_a_space(client, auth, team: Team, approval_runner):
    _, request = approval_runner(600000)  # two levels: the first decision stays in the history
    auth.login(team.officers[0].email)
    decide(client, request.id, "approve", "Income verified")
    auth.logout()
    auth.login(team.officers[1].email)
    text = text_of(client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True))
    assert "approved by Officer 1: “Income verified”" in text and "Officer 1 :" not in text


def test_inbox_decisions_ask_first_naming_the_request(client, auth, team: Team, approval_runner):
    runner, request = approval_runner(600000)
    auth.login(team.officers[0].email)
    for page in (client.get("/inbox/").get_data(as_text=True),
                 client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)):
        asked = {value: html.unescape(question) for value, question in re.findall(
            r'value="(approve|reject)"\s+data-confirm="([^"]+)"', page)}
        assert asked == {
            "approve": f"Approve “Loan of 600000” ({runner.ref_id}) at level L1 of 2? "
                       "Your approval cannot be taken back.",
            "reject": f"Reject “Loan of 600000” ({runner.ref_id})? The request ends rejected; "
                      "this cannot be undone."}
