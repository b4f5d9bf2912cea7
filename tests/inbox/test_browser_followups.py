"""In a real browser: verifying a document swaps only that document (what the officer typed stays),
and deciding from the inbox list asks first and applies no inline style the CSP would block."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.services import approvals, documents
from tests.conftest import browser_sign_in
from tests.inbox.conftest import APPROVAL, Team, chain
from tests.inbox.test_request_followups import WARNING, asked_again_and_uploaded


@pytest.mark.browser
def test_verifying_a_document_keeps_what_the_officer_typed(live_server: str, chromium: Any, team: Team,
                                                           review) -> None:
    from playwright.sync_api import expect

    _, fresh = asked_again_and_uploaded(team, review)
    _, pan, _ = review
    page = browser_sign_in(chromium, live_server, team.officers[0].email)
    page.goto(f"{live_server}/inbox/approvals/{fresh.id}")
    page.evaluate("() => { window.samePage = true; }")  # gone if the page reloads
    warning = page.get_by_text(WARNING)
    expect(warning).to_be_visible()
    page.get_by_label("Comment").fill("Income matches the payslips")
    page.get_by_label("What should the customer fix?").fill("The edges are cut off")

    page.get_by_role("button", name="Mark PAN card verified").click()
    expect(page.locator(f"#document-{pan.id}")).to_contain_text("Verified by Officer 1.")
    expect(page.locator("#inbox-status")).to_have_text("PAN card verified.")
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Mark PAN card verified")).to_have_count(0)
    assert page.evaluate("() => window.samePage") is True
    expect(page.get_by_label("Comment")).to_have_value("Income matches the payslips")
    expect(page.get_by_label("What should the customer fix?")).to_have_value("The edges are cut off")
    db.session.expire_all()
    assert documents.get_document(team.maker, pan.id).status == "verified"
    assert page.problems == []


@pytest.mark.browser
def test_deciding_from_the_inbox_asks_first_and_keeps_the_csp(live_server: str, chromium: Any, team: Team,
                                                              make_flow, start) -> None:
    from playwright.sync_api import expect

    runner = start(make_flow(chain(APPROVAL)), {"amount": 900000, "applicant": {"name": "Ravi Kumar"}})
    request = approvals.get_by_resource(team.maker, "runner", runner.id)
    page = browser_sign_in(chromium, live_server, team.officers[0].email)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss() if len(asked) == 1
                                      else dialog.accept()))
    page.goto(f"{live_server}/inbox/")
    card = page.locator(f"#approval-{request.id}")

    # Without a comment nothing is asked: the server's "needs a comment" comes first, as it would
    # after a confirmed question.
    card.get_by_role("button", name="Reject").click()
    expect(card).to_contain_text("needs a comment")
    assert asked == []
    card.get_by_label("Comment").fill("Bureau score below policy")
    card.get_by_role("button", name="Reject").click()  # dismissed: nothing is sent
    assert asked == [f"Reject “Loan of 900000” ({runner.ref_id})? The request ends rejected; "
                     "this cannot be undone."]
    expect(card.get_by_label("Comment")).to_have_value("Bureau score below policy")
    card.get_by_role("button", name="Reject").click()  # accepted
    expect(card).to_have_count(0)
    db.session.expire_all()
    assert approvals.get_approval(team.maker, request.id).status == "rejected"

    # htmx's indicator rules come from app.css, not from a <style> element htmx would inject.
    assert page.locator("style").count() == 0
    opacity = page.locator("main").evaluate("""main => {
        const probe = document.createElement('span');
        probe.className = 'htmx-indicator';
        main.appendChild(probe);
        return getComputedStyle(probe).opacity; }""")
    assert opacity == "0"
    assert not [m for m in console if "Content Security Policy" in m], console
    assert page.problems == []
