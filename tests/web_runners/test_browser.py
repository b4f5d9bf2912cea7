"""The runner pages in a real browser: filter the list, watch a runner move, cancel after confirming,
start a runner from its design and move it on from its page."""

from __future__ import annotations

from typing import Any

import pytest

from app.services import runner_queries, runners
from app.services.runner_queries import RunnerFilter
from tests.conftest import browser_sign_in
from tests.web_runners.conftest import FAILS, WAITS


@pytest.mark.browser
def test_filter_watch_and_cancel(live_server: str, chromium: Any, lender: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    watched = lender.start(lender.flow(WAITS, name="Home loans"))
    doomed = lender.start(lender.flow(WAITS, name="Car loans"))
    failed = lender.start(lender.flow(FAILS, name="Gated loans"))
    page = browser_sign_in(chromium, live_server, lender.users["credit_officer"].email)
    page.goto(f"{live_server}/runners/")
    expect(page.locator("#runner-list tbody tr")).to_have_count(3)
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#runner-list tbody tr")).to_have_count(1)  # htmx swapped the list in place
    expect(page.locator("#runner-list")).to_contain_text(failed.ref_id)
    expect(page).to_have_url(f"{live_server}/runners/?flow=&status=failed&stage=&q=")

    page.goto(f"{live_server}/runners/{watched.id}")
    expect(page.locator("#runner-status")).to_have_text("waiting")
    expect(page.locator('g.node--waiting[data-node="apply"]')).to_have_count(1)
    page.screenshot(path=str(tmp_path / "runner.png"), full_page=True)
    runners.execute_runner(lender.admin, watched.id, action="submit", data={})
    # The fragment polls every 3 seconds: the page follows the runner without a reload, then stops.
    expect(page.locator("#runner-status")).to_have_text("succeeded", timeout=8000)
    expect(page.locator('g.node--ok[data-node="done"]')).to_have_count(1)
    expect(page.locator("#runner-live")).not_to_have_attribute("hx-trigger", "every 3s")

    page.goto(f"{live_server}/runners/{doomed.id}")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_text("Cancel this runner…").click()
    page.get_by_label("Why cancel it?").fill("Customer withdrew")
    page.get_by_role("button", name="Cancel the runner for good").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{doomed.ref_id} cancelled.")
    expect(page.locator("#runner-status")).to_have_text("cancelled")
    assert asked and asked[0].startswith(f"Cancel {doomed.ref_id} for good?")
    assert page.problems == []  # no CSP violation, no script error


@pytest.mark.browser
def test_start_from_the_design_then_submit_at_the_waiting_node(live_server: str, chromium: Any, lender: Any,
                                                              tmp_path: Any) -> None:
    from playwright.sync_api import expect

    flow = lender.flow(WAITS, name="Home loans")
    page = browser_sign_in(chromium, live_server, lender.users["admin"].email)
    page.goto(f"{live_server}/designs/flows/{flow.id}")
    page.get_by_role("link", name="Start a runner").click()
    expect(page.get_by_label("Flow")).to_have_value(flow.id)  # the flow page pre-selected it
    page.get_by_label("Start data (JSON object)").fill('{"amount": 500000}')
    page.get_by_role("button", name="Start the runner").click()
    expect(page.locator(".flash-success")).to_contain_text("started.")
    expect(page.locator("#runner-status")).to_have_text("waiting")

    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text("You may submit: submit.")
    waiting.get_by_label("Data (JSON object)").fill('{"name": "Asha"}')
    page.screenshot(path=str(tmp_path / "waiting.png"), full_page=True)
    waiting.get_by_role("button", name="submit at apply").click()
    expect(page.locator(".flash-success")).to_contain_text("Submitted 'submit' at apply")
    expect(page.locator("#runner-status")).to_have_text("succeeded")
    expect(page.locator("#waiting")).to_have_count(0)
    [runner] = runner_queries.list_runners(lender.admin, RunnerFilter(flow_id=flow.id)).items
    assert runner.status == "succeeded" and runner.created_by == lender.users["admin"].id
    assert page.problems == []  # no CSP violation, no script error
