"""The inbox in a real browser: two officers approve two levels; a rejection keeps its comment."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.services import approvals, runners
from tests.conftest import browser_sign_in
from tests.inbox.conftest import APPROVAL, CHECKLIST, Team, chain


def sign_in(browser: Any, base: str, email: str) -> Any:
    """The officer's inbox; decisions ask first (data-confirm): `page.asked` keeps each question,
    answered OK."""
    page = browser_sign_in(browser, base, email)
    page.asked = []
    page.on("dialog", lambda dialog: (page.asked.append(dialog.message), dialog.accept()))
    page.goto(f"{base}/inbox/")
    return page


@pytest.mark.browser
def test_two_officers_approve_two_levels_and_a_rejection_keeps_its_comment(
        live_server: str, chromium: Any, team: Team, make_flow, start) -> None:
    from playwright.sync_api import expect

    from app.services import checklists

    template = checklists.create_template(team.maker, name="Disbursal", items=[{"title": "Mandate signed"}])
    flow = make_flow(chain(APPROVAL, CHECKLIST, template_id=template.id))
    big = start(flow, {"amount": 750000, "applicant": {"name": "Asha Rao"}})
    doomed = start(flow, {"amount": 900000, "applicant": {"name": "Ravi Kumar"}})
    big_request = approvals.get_by_resource(team.maker, "runner", big.id)
    doomed_request = approvals.get_by_resource(team.maker, "runner", doomed.id)

    first = sign_in(chromium, live_server, team.officers[0].email)
    card = first.locator(f"#approval-{big_request.id}")
    expect(card).to_contain_text("Loan of 750000")
    expect(first.locator("#inbox-count")).to_have_text("2")
    card.get_by_label("Comment").fill("Income verified")
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)  # htmx swapped the decided card out, no reload
    expect(first.locator("#inbox-count")).to_have_text("1")

    second = sign_in(chromium, live_server, team.officers[1].email)
    second.get_by_role("link", name="Loan of 750000").click()
    expect(second.get_by_role("heading", name="History")).to_be_visible()
    expect(second.locator("ol.history")).to_contain_text("Income verified")
    expect(second.locator("#fields-h")).to_be_visible()
    second.get_by_role("button", name="Approve").click()
    expect(second.get_by_role("heading", name="My inbox")).to_be_visible()
    expect(second.locator(".flash-success")).to_contain_text("Approved")

    card = second.locator(f"#approval-{doomed_request.id}")
    card.get_by_role("button", name="Reject").click()
    expect(card).to_contain_text("needs a comment")
    card.get_by_label("Comment").fill("Bureau score below policy")
    card.get_by_role("button", name="Reject").click()
    expect(card).to_have_count(0)
    assert second.asked[-1] == (f"Reject “Loan of 900000” ({doomed.ref_id})? The request ends rejected; "
                                "this cannot be undone.")

    db.session.expire_all()
    moved = runners.get_runner(team.maker, big.id)
    assert moved.status == "waiting" and moved.current_nodes == ["disbursal_checks"]
    rejected = approvals.get_approval(team.maker, doomed_request.id)
    assert rejected.status == "rejected" and rejected.decisions[-1].comment == "Bureau score below policy"
    assert runners.get_runner(team.maker, doomed.id).status == "succeeded"  # reached the `rejected` end
