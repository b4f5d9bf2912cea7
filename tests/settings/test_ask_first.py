"""Settings pages as a reviewer found them: irreversible actions (revoke a token, delete a secret,
reset a password) ask first in the browser, and the team member page names its roles card once."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from app.extensions import db
from app.models import ApiToken
from app.services import secrets, tokens
from app.services.principal import Principal
from tests.conftest import browser_sign_in

CONFIRM = re.compile(r'data-confirm="([^"]*)"[^>]*>([^<]*)')


def questions(page: str) -> dict[str, str]:
    """Button label -> the question it asks first."""
    return {label.strip(): html.unescape(question) for question, label in CONFIRM.findall(page)}


def test_destructive_settings_buttons_carry_their_question(client, auth, lender, make_user):
    company, admin = lender
    actor = Principal.for_user(admin)
    tokens.issue_api_token(actor, company, name="LOS")
    secrets.set_secret(actor, "bank", {"client_secret": "x"})
    member = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    auth.login(admin.email)
    asked = questions(client.get("/settings/tokens").get_data(as_text=True))
    assert "Systems using it lose access" in asked["Revoke"]
    asked = questions(client.get("/settings/secrets").get_data(as_text=True))
    assert "Designs that use it will fail" in asked["Delete"]
    asked = questions(client.get(f"/settings/team/{member.id}").get_data(as_text=True))
    assert "Reset the password of Vic Viewer?" in asked["Reset password"]


@pytest.mark.browser
def test_revoking_a_token_asks_first(live_server: str, chromium: Any, lender) -> None:
    from playwright.sync_api import expect

    company, admin = lender
    issued = tokens.issue_api_token(Principal.for_user(admin), company, name="LOS")
    page = browser_sign_in(chromium, live_server, admin.email)
    page.goto(f"{live_server}/settings/tokens")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("cell", name="active", exact=True)).to_be_visible()
    # The prefix tells apart tokens that share a name.
    assert asked == [f"Revoke the token “LOS” ({issued.token.prefix}…)? Systems using it lose access "
                     "at once; this cannot be undone."]
    db.session.expire_all()
    assert db.session.query(ApiToken).one().revoked_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("cell", name="revoked", exact=True)).to_be_visible()
    assert page.problems == []


@pytest.mark.browser
def test_the_member_page_says_roles_once_and_a_reset_asks_first(live_server: str, chromium: Any, lender,
                                                                make_user) -> None:
    from playwright.sync_api import expect

    company, admin = lender
    member = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    page = browser_sign_in(chromium, live_server, admin.email)
    page.goto(f"{live_server}/settings/team/{member.id}")
    expect(page.get_by_role("heading", name="Roles")).to_be_visible()
    shown = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e =>
        e.childElementCount === 0 && e.textContent.trim() === 'Roles'
        && e.getBoundingClientRect().right > 0).length""")
    assert shown == 1  # the heading, not the heading and the field's label again
    expect(page.get_by_role("checkbox", name="Viewer")).to_be_checked()

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Vic Viewer")).to_be_visible()
    expect(page.locator("#temporary-password")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset password").click()
    expect(page.locator("#temporary-password")).to_be_visible()
    assert page.problems == []
