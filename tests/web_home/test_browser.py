"""The dashboard in a real browser: no CSP violation, its counts refresh themselves, tiles lead to lists."""

from __future__ import annotations

from typing import Any

import pytest

import app.web.home
from tests.conftest import browser_sign_in


@pytest.mark.browser
def test_the_dashboard_refreshes_its_counts_and_leads_to_the_lists(
        live_server: str, chromium: Any, lender: Any, world: dict[str, Any], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(app.web.home, "POLL", "every 1s")  # the page polls every 30 s
    page = browser_sign_in(chromium, live_server, lender.users["admin"].email)
    failed_tile = page.locator("#runner-counts .tile--failed .tile-count")
    expect(failed_tile).to_have_text("1")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    lender.start(world["gate"])
    expect(failed_tile).to_have_text("2", timeout=5000)  # swapped in by htmx, no reload
    expect(page.locator("#my-inbox")).to_contain_text("waiting for you")

    page.locator("#runner-counts .tile--failed").click()
    expect(page).to_have_url(f"{live_server}/runners/?status=failed")
    expect(page.locator("#runner-list tbody tr")).to_have_count(2)

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    page.get_by_role("heading", name="Audit log").get_by_role("link").click()
    expect(page.locator('nav[aria-label="Settings"] a[aria-current="page"]')).to_have_text("Audit log")
    page.screenshot(path=str(tmp_path / "settings.png"), full_page=True)
    assert page.problems == []


@pytest.mark.browser
def test_a_refresh_of_the_counts_keeps_the_keyboard_on_its_tile(
        live_server: str, chromium: Any, lender: Any, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The counts replace themselves every 30 s: focus on a tile fell back to the page's start."""
    from playwright.sync_api import expect

    monkeypatch.setattr(app.web.home, "POLL", "every 1s")
    page = browser_sign_in(chromium, live_server, lender.users["admin"].email)
    page.locator("#runner-counts .tile--failed").focus()
    lender.start(world["gate"])
    expect(page.locator("#runner-counts .tile--failed .tile-count")).to_have_text("2", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "tile-failed"
    assert page.problems == []
