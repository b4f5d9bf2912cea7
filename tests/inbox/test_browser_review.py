"""In a real browser: danger buttons stay readable, irreversible actions ask first (and still work
without JavaScript), inbox decisions and completing ticks say what they did and update the top
bar, and the inbox filters sit on one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.services import approvals, checklists, documents
from tests.conftest import DEFAULT_PASSWORD, browser_sign_in
from tests.inbox.conftest import APPROVAL, CHECKLIST, Team, chain

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DANGER_CLASS = re.compile(r'<button\b[^>]*\bclass="([^"]*\bdanger\b[^"]*)"')


def contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255 channels)."""
    def luminance(rgb: tuple[float, ...]) -> float:
        channels = [c / 255 for c in rgb[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgba(css: str) -> tuple[float, ...]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    return tuple(values) if len(values) == 4 else (*values, 1.0)


@pytest.mark.browser
def test_every_danger_button_in_the_templates_is_readable(live_server: str, chromium: Any) -> None:
    """Each class combination a template gives a danger button, styled by app.css on a card:
    its text must stand out from what is behind it (its own block, or the card)."""
    combos = sorted({m.group(1) for path in TEMPLATES.rglob("*.html")
                     for m in DANGER_CLASS.finditer(path.read_text())})
    assert {"link danger", "danger", "button danger"} <= set(combos)
    page = chromium.new_context().new_page()
    page.goto(f"{live_server}/login")  # a page of ours, styled by app.css
    buttons = "".join(f'<button class="{c}">Go</button>' for c in combos)
    page.locator("main").evaluate("(main, html) => main.insertAdjacentHTML('beforeend', html)",
                                  f'<div class="card">{buttons}</div>')
    for combo in combos:
        style = page.locator(f'button[class="{combo}"]').evaluate(
            "b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }")
        color, background = rgba(style[0]), rgba(style[1])
        behind = background if background[3] > 0 else (255, 255, 255, 1)  # the card shows through
        assert contrast(color, behind) >= 4.5, (combo, style)
        if "link" in combo.split():
            assert background[3] == 0, (combo, style)  # a link is text, not a block


def officer_page(chromium: Any, live_server: str, email: str, path: str) -> Any:
    page = browser_sign_in(chromium, live_server, email)
    page.goto(f"{live_server}{path}")
    return page


@pytest.mark.browser
def test_a_reupload_asks_first_says_it_withdraws_and_then_offers_nothing(
        live_server: str, chromium: Any, team: Team, review) -> None:
    from playwright.sync_api import expect

    _, pan, request = review
    page = officer_page(chromium, live_server, team.officers[1].email, f"/inbox/approvals/{request.id}")
    button = page.get_by_role("button", name="Ask for a re-upload of PAN card")
    style = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert style == ["rgb(180, 35, 24)", "rgba(0, 0, 0, 0)"]  # red text, no red block under it
    expect(page.locator(".document-actions")).to_contain_text("This withdraws this approval request")
    page.get_by_label("What should the customer fix?").fill("Blurred")

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    button.click()
    expect(page.locator("#approval-status")).to_have_text("pending")
    assert asked and "withdraws this approval request" in asked[0]
    db.session.expire_all()
    assert documents.get_document(team.maker, pan.id).status == "uploaded"  # nothing was sent

    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator(".flash-success")).to_contain_text("The approval request was withdrawn")
    expect(page.get_by_role("heading", name="This request was withdrawn")).to_be_visible()
    expect(page.get_by_role("button", name="Ask for a re-upload of PAN card")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert page.problems == []


@pytest.mark.browser
def test_without_javascript_a_reupload_still_happens(live_server: str, chromium: Any, team: Team,
                                                     review) -> None:
    from playwright.sync_api import expect

    _, pan, request = review
    page = chromium.new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(team.officers[1].email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/inbox/approvals/{request.id}")
    page.get_by_label("What should the customer fix?").fill("Blurred")
    page.get_by_role("button", name="Ask for a re-upload of PAN card").click()
    expect(page.get_by_role("heading", name="This request was withdrawn")).to_be_visible()
    db.session.expire_all()
    assert documents.get_document(team.maker, pan.id).status == "reupload"


@pytest.mark.browser
def test_inbox_decisions_and_the_completing_tick_say_what_they_did(
        live_server: str, chromium: Any, team: Team, make_flow, start) -> None:
    from playwright.sync_api import expect

    template = checklists.create_template(team.maker, name="Disbursal", items=[
        {"title": "Mandate signed"}, {"title": "Reference call", "required": False}])
    flow = make_flow(chain(APPROVAL, CHECKLIST, template_id=template.id))
    big = approvals.get_by_resource(team.maker, "runner", start(flow, {"amount": 750000}).id)
    small = approvals.get_by_resource(team.maker, "runner", start(flow, {"amount": 1000}).id)
    page = officer_page(chromium, live_server, team.officers[0].email, "/inbox/")
    badge = page.locator('.topbar nav a[href="/inbox/"] .count')
    expect(badge).to_have_text("2")

    # The four filters share one line at 1280 px, as on the runner list.
    tops = [page.get_by_label(name, exact=True).bounding_box()["y"]
            for name in ("Flow", "Stage", "Age", "Order")]
    assert max(tops) - min(tops) < 1, tops

    status = page.get_by_role("status")
    card = page.locator(f"#approval-{big.id}")
    page.once("dialog", lambda dialog: dialog.accept())  # a decision asks first
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)
    expect(status).to_have_text("Approved level L1 of “Loan of 750000”; level L2 decides next.")
    expect(badge).to_have_text("1")
    expect(page.locator("#inbox-count")).to_have_text("1")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#approval-{small.id}").get_by_role("button", name="Approve").click()
    expect(status).to_have_text("Approved “Loan of 1000”.")
    # The last card gone: the empty state shows, not an empty "Approvals" heading.
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    expect(page.get_by_role("heading", name="Approvals")).to_be_hidden()
    # The runner reached its checklist: a reload shows the task (and the badge counts it).
    page.reload()
    expect(badge).to_have_text("1")
    tick = page.get_by_role("button", name="Tick “Mandate signed”")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    tick.click()
    expect(page.locator(".checklist h4")).to_contain_text("(open)")
    assert questions and "completes “Before disbursal” and moves the runner on" in questions[0]
    page.once("dialog", lambda dialog: dialog.accept())
    tick.click()
    expect(page.locator(".checklist h4")).to_contain_text("(completed)")
    expect(status).to_have_text("“Before disbursal” is complete; the runner moved on.")
    expect(badge).to_have_count(0)
    expect(page.locator("#inbox-count")).to_have_text("0")
    assert page.problems == []
