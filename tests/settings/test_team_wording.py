"""Settings → Team as a reviewer found it: the roles checkboxes are a fieldset named "Roles", your own
page offers no deactivation (nor a reset: both are refused for yourself), and roles read as words."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import browser_sign_in
from tests.security.conftest import post_form

ROLES_FIELDSET = re.compile(
    r'<fieldset class="field[^"]*" id="roles"[^>]*>\s*<legend>Roles</legend>(.*?)</fieldset>', re.S)


def roles_fieldset(page: str) -> str:
    found = ROLES_FIELDSET.search(page)
    assert found, "no Roles fieldset"
    return found.group(1)


def test_the_roles_checkboxes_are_a_fieldset_named_roles(client, auth, lender, make_user):
    company, admin = lender
    member = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    auth.login(admin.email)
    for url in ("/settings/team", f"/settings/team/{member.id}", "/settings/tokens"):
        page = client.get(url).get_data(as_text=True)
        assert 'for="roles"' not in page, url  # a label cannot name the list of checkboxes
        boxes = roles_fieldset(page)
        assert re.findall(r'<label for="roles-\d">([^<]+)</label>', boxes) == ["Admin", "Credit officer",
                                                                            "Viewer"], url
    # The help and, once refused, the error are tied to the group.
    page = post_form(client, "/settings/team", "/settings/team", name="Nia", email="nia@acme.example.com")
    tag = re.search(r'<fieldset[^>]*id="roles"[^>]*>', page.get_data(as_text=True)).group(0)
    assert 'aria-describedby="roles-help roles-errors"' in tag
    assert '<ul class="errors" id="roles-errors"><li>Choose at least one role.</li></ul>' in page.get_data(
        as_text=True)


def test_your_own_page_does_not_offer_to_deactivate_or_reset_you(client, auth, lender, make_user):
    company, admin = lender
    other = make_user(company, roles=("admin",), name="Bea Admin", email="bea@acme.example.com")
    auth.login(admin.email)
    mine = client.get(f"/settings/team/{admin.id}").get_data(as_text=True)
    assert "/deactivate" not in mine and "Deactivate Ada Admin" not in mine
    assert "/reset-password" not in mine
    assert "You cannot deactivate yourself; another admin can." in mine
    assert 'Change your own password under <a href="/account/security">Security</a>.' in mine
    theirs = client.get(f"/settings/team/{other.id}").get_data(as_text=True)
    assert f'action="/settings/team/{other.id}/deactivate"' in theirs and "Deactivate Bea Admin" in theirs
    assert f'action="/settings/team/{other.id}/reset-password"' in theirs


def test_the_team_table_names_roles_as_the_checkboxes_do(client, auth, lender, make_user):
    company, admin = lender
    make_user(company, roles=("admin", "credit_officer"), name="Oli Officer", email="oli@acme.example.com")
    auth.login(admin.email)
    page = client.get("/settings/team").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><a[^>]*>Oli Officer</a>.*?</tr>", page, re.S).group(0)
    assert "<td>Admin, Credit officer</td>" in row and "credit_officer" not in page[page.index("<table"):]


@pytest.mark.browser
def test_the_roles_group_is_named_and_your_own_page_offers_no_deactivation(live_server: str, chromium: Any,
                                                                           lender) -> None:
    from playwright.sync_api import expect

    _, admin = lender
    page = browser_sign_in(chromium, live_server, admin.email)
    page.goto(f"{live_server}/settings/team")
    roles = page.get_by_role("group", name="Roles")
    expect(roles.get_by_role("checkbox", name="Credit officer")).to_be_visible()
    expect(page.get_by_role("row", name="Ada Admin")).to_contain_text("Admin")
    page.get_by_role("link", name="Ada Admin").click()
    expect(page.get_by_role("group", name="Roles").get_by_role("checkbox", name="Admin")).to_be_checked()
    expect(page.get_by_role("button", name="Deactivate Ada Admin")).to_have_count(0)
    expect(page.get_by_text("You cannot deactivate yourself; another admin can.")).to_be_visible()
    assert page.problems == []
