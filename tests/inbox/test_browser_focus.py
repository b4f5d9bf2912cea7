"""In a real browser: an htmx answer that replaces what the officer just pressed leaves focus where
the officer works (the comment a refusal is about, the next tick, the verified document), not on
the page's body, where a keyboard or screen-reader user starts again from the top."""

from __future__ import annotations

from typing import Any

import pytest

from app.services import approvals, checklists
from tests.conftest import browser_sign_in
from tests.inbox.conftest import CHECKLIST, Team, chain


@pytest.mark.browser
def test_a_refused_inbox_decision_focuses_its_comment(live_server: str, chromium: Any, team: Team,
                                                      approval_runner: Any) -> None:
    from playwright.sync_api import expect

    _, request = approval_runner(1000)
    page = browser_sign_in(chromium, live_server, team.officers[0].email)
    page.goto(f"{live_server}/inbox/")
    card = page.locator(f"#approval-{request.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Reject").click()
    expect(card.get_by_role("alert")).to_contain_text("A rejection needs a comment.")
    expect(card.get_by_label("Comment")).to_be_focused()


@pytest.mark.browser
def test_ticks_keep_focus_on_the_checklist(live_server: str, chromium: Any, team: Team, make_flow: Any,
                                           start: Any) -> None:
    from playwright.sync_api import expect

    template = checklists.create_template(team.maker, name="Disbursal", items=[
        {"title": "Mandate signed"}, {"title": "Reference call", "required": False}])
    start(make_flow(chain(CHECKLIST, template_id=template.id)))
    page = browser_sign_in(chromium, live_server, team.officers[0].email)
    page.goto(f"{live_server}/inbox/")
    page.get_by_role("button", name="Tick “Reference call”").click()
    # The same item's button, now Untick, has the focus: Tab goes on to the next item.
    expect(page.get_by_role("button", name="Untick “Reference call”")).to_be_focused()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tick “Mandate signed”").click()
    heading = page.locator(".checklist h4")
    expect(heading).to_contain_text("(completed)")
    expect(heading).to_be_focused()
    assert page.problems == []


@pytest.mark.browser
def test_verifying_a_document_focuses_its_new_state(live_server: str, chromium: Any, team: Team,
                                                     review: Any) -> None:
    from playwright.sync_api import expect

    _, pan, request = review
    page = browser_sign_in(chromium, live_server, team.officers[1].email)
    page.goto(f"{live_server}/inbox/approvals/{request.id}")
    page.get_by_role("button", name="Mark PAN card verified").click()
    heading = page.locator(f"#document-{pan.id} h3")
    expect(heading).to_contain_text("(verified, required)")
    expect(heading).to_be_focused()
    assert page.problems == []


def test_the_decision_page_refused_for_a_missing_comment_focuses_it(client: Any, team: Team,
                                                                   approval_runner: Any) -> None:
    """Without JavaScript: the page comes back with the comment focused (its error beside it)."""
    from tests.conftest import AuthActions, csrf_from

    _, request = approval_runner(1000)
    AuthActions(client).login(team.officers[0].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    assert "autofocus" not in page
    answer = client.post(f"/inbox/approvals/{request.id}/decide", data={
        "csrf_token": csrf_from(page), f"a-{request.id}-decision": "reject",
        f"a-{request.id}-version": str(request.version)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'id="a-{request.id}-comment"' in text
    comment = text[text.index("<textarea"):text.index("</textarea>")]
    assert "autofocus" in comment and 'aria-invalid="true"' in comment
    assert approvals.get_approval(team.maker, request.id).status == "pending"
