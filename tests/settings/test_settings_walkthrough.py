"""Settings pages as an admin walking them found them: revoke buttons that cannot be told apart, a
secret value silently dropped after a refused save, and a deactivated member's reset that promised a
sign-in they cannot make."""

from __future__ import annotations

import html

from app.services import tokens
from app.services.principal import Principal
from tests.security.conftest import post_form
from tests.settings.conftest import SHOWN


def test_revoke_names_the_token_and_its_prefix(client, auth, lender):
    company, admin = lender
    first = tokens.issue_api_token(Principal.for_user(admin), company, name="LOS", roles=["viewer"])
    second = tokens.issue_api_token(Principal.for_user(admin), company, name="LOS", roles=["viewer"])
    auth.login(admin.email)
    page = html.unescape(client.get("/settings/tokens").get_data(as_text=True))
    for issued in (first, second):
        prefix = issued.token.prefix
        assert f'Revoke the token “LOS” ({prefix}…)?' in page
        assert f'aria-label="Revoke LOS ({prefix}…)"' in page


def test_row_buttons_are_named_without_the_skip_link_class(client, auth, lender):
    """.skip hides only 999px to the left: a 100-character secret name showed on the page in red."""
    company, admin = lender
    long_name = "N" * 100
    tokens.issue_api_token(Principal.for_user(admin), company, name="T" * 200, roles=["viewer"])
    auth.login(admin.email)
    post_form(client, "/settings/secrets", "/settings/secrets", name=long_name, kind="text", value="v",
              allowed_fields="headers")
    post_form(client, "/settings/outbound", "/settings/outbound", value="10.20.0.0/16", note="VPN")
    for url, label in (("/settings/secrets", f"Delete {long_name}"),
                       ("/settings/outbound", "Remove 10.20.0.0/16"),
                       ("/settings/tokens", "Revoke " + "T" * 200)):
        page = html.unescape(client.get(url).get_data(as_text=True))
        main = page.split('id="main"', 1)[1]
        assert 'class="skip"' not in main, url
        assert f'aria-label="{label}' in main, url


def test_a_refused_secret_asks_for_the_value_again_and_never_echoes_it(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    response = post_form(client, "/settings/secrets", "/settings/secrets", name="bad name",
                         kind="text", value="typed-s3cret", allowed_fields="headers")
    page = response.get_data(as_text=True)
    assert "Use letters, digits and _." in page
    again = "Type the value again: it is never sent back to the page."
    assert f'<ul class="errors" id="value-errors"><li>{again}' in page
    assert 'aria-describedby="value-help value-errors"' in page
    assert "typed-s3cret" not in page
    # Nothing typed in the box: nothing to type again.
    page = post_form(client, "/settings/secrets", "/settings/secrets", name="bad name", kind="text",
                     value="").get_data(as_text=True)
    assert "Type the value again" not in page


def test_resetting_a_deactivated_members_password_says_they_cannot_sign_in_yet(client, auth, lender,
                                                                               make_user):
    company, admin = lender
    member = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    auth.login(admin.email)
    post_form(client, f"/settings/team/{member.id}", f"/settings/team/{member.id}/deactivate")
    page = post_form(client, f"/settings/team/{member.id}",
                     f"/settings/team/{member.id}/reset-password").get_data(as_text=True)
    assert SHOWN.search(page)
    assert 'id="temporary-password-inactive"' in page and "reactivate" in page
    assert "sign in again with the temporary password an admin gave them" in page
    # An active member's reset does not carry the warning.
    other = make_user(company, roles=("viewer",), name="Ola", email="ola@acme.example.com")
    page = post_form(client, f"/settings/team/{other.id}",
                     f"/settings/team/{other.id}/reset-password").get_data(as_text=True)
    assert SHOWN.search(page) and 'id="temporary-password-inactive"' not in page


def test_sign_in_policy_names_who_it_would_hold(client, auth, lender, make_user):
    from app.services import mfa, team
    from tests.security.conftest import code_at

    company, admin = lender
    make_user(company, roles=("credit_officer",), name="Olu Officer", email="olu@acme.example.com")
    make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    gone = make_user(company, roles=("credit_officer",), name="Gone Officer", email="gone@acme.example.com")
    team.deactivate_user(Principal.for_user(admin), gone.id)
    enrolled = make_user(company, roles=("credit_officer",), name="Ena Enrolled",
                         email="ena@acme.example.com")
    mfa.confirm_enrolment(enrolled, code_at(mfa.start_enrolment(enrolled).secret, -1))
    auth.login(admin.email)
    page = " ".join(client.get("/settings/sign-in").get_data(as_text=True).split())
    assert "on the next page they open, signed in already or not" in page
    listed = page.split('<ul id="without-second-factor">', 1)[1].split("</ul>", 1)[0]
    assert "Turning the requirement on sends them to set one up" in page
    assert "Olu Officer" in listed and "Ada Admin</a> (you:" in listed
    for absent in ("Vic Viewer", "Gone Officer", "Ena Enrolled"):
        assert absent not in listed


def test_the_tokens_page_says_how_a_token_is_sent(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    intro = " ".join(page.split('id="tokens-intro">', 1)[1].split("</p>", 1)[0].split())
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in intro and 'href="/v1/docs"' in intro
    assert client.get("/v1/docs").status_code == 200


def test_where_a_secret_may_be_used_is_a_fieldset_with_nothing_pre_ticked(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    post_form(client, "/settings/secrets", "/settings/secrets", name="bureau", kind="text", value="v1",
              allowed_fields="body", allowed_hosts="api.bureau.example")
    page = client.get("/settings/secrets").get_data(as_text=True)
    group = page.split('<fieldset class="field" id="allowed_fields"', 1)[1].split("</fieldset>", 1)[0]
    assert "<legend>May be used in</legend>" in group and 'for="allowed_fields"' not in page
    assert "checked" not in group  # a pre-ticked Headers moved a Body secret when only its value was replaced
    assert "None ticked: a new secret is used nowhere; a saved one keeps where it may be used." in group
    # Replacing only the value, boxes as the page offers them: the secret still goes in the body.
    post_form(client, "/settings/secrets", "/settings/secrets", name="bureau", kind="text", value="v2")
    row = client.get("/settings/secrets").get_data(as_text=True).split("<code>bureau</code>", 1)[1]
    assert row.split("</tr>", 1)[0].count("Body") == 1 and "Headers" not in row.split("</tr>", 1)[0]


def test_the_allowlist_names_what_it_lets_through(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    page = client.get("/settings/outbound").get_data(as_text=True)
    intro = " ".join(page.split('id="outbound-intro">', 1)[1].split("</p>", 1)[0].split())
    assert "code senders" not in intro
    assert "gateway that sends customers their one-time codes" in intro
    assert "Code snippets have no network access at all." in intro


def test_the_page_showing_a_new_token_is_not_kept_in_caches(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    created = post_form(client, "/settings/tokens", "/settings/tokens", name="LOS", roles="viewer")
    assert 'id="new-token"' in created.get_data(as_text=True)
    assert created.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/settings/tokens").headers.get("Cache-Control", "")
