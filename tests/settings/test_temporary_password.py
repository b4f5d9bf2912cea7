"""A temporary password from Settings → Team must be replaced at the next sign-in, in the browser."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.services import accounts, mfa, team
from app.services.errors import ValidationFailed
from app.services.principal import Principal
from tests.conftest import AuthActions
from tests.security.conftest import code_at, post_form
from tests.security.test_pages_keep_csp import audit_page
from tests.settings.conftest import SHOWN, change_password, fresh_user, invite, signed_in
from tests.test_api_auth import assert_problem, basic

PASSWORD_PAGE = "/account/password"
ENROL_PAGE = "/account/security/two-factor"
REQUIRED = 'id="password-change-required"'
ROW = re.compile(r"<tr>\s*<td><a[^>]*>([^<]+)</a>.*?</tr>", re.S)
GATED = ["/", "/runners/", "/inbox/", "/designs/", "/settings/", "/settings/team", "/account/security"]


def _invited(client, auth, admin, name: str = "Nina New", email: str = "nina@acme.example.com") -> str:
    """Add a user through the Team page as `admin`; return the temporary password shown once."""
    auth.login(admin.email)
    page = invite(client, name=name, email=email, roles=["credit_officer"]).get_data(as_text=True)
    return SHOWN.search(page).group(1)


def _team_rows(client) -> dict[str, str]:
    page = client.get("/settings/team").get_data(as_text=True)
    return {m.group(1): m.group(0) for m in ROW.finditer(page)}


def test_invited_user_changes_the_temporary_password_before_anything_else(app, client, auth, lender):
    _, admin = lender
    temporary = _invited(client, auth, admin)
    nina = signed_in(app, "nina@acme.example.com", temporary, lands_on=PASSWORD_PAGE)

    landing = nina.get("/", follow_redirects=True)
    assert landing.request.path == PASSWORD_PAGE
    page = landing.get_data(as_text=True)
    assert REQUIRED in page and "temporary" in page and "Welcome, Nina New." in page
    assert audit_page(page).problems == []
    for url in GATED:
        assert nina.get(url).headers.get("Location") == PASSWORD_PAGE, url
    assert nina.get(PASSWORD_PAGE).status_code == 200
    with nina.get("/static/css/app.css") as stylesheet:
        assert stylesheet.status_code == 200
    assert nina.get(ENROL_PAGE).status_code == 200  # enrolling stays possible

    signed_out = post_form(nina, PASSWORD_PAGE, "/logout")
    assert signed_out.headers["Location"] == "/login"
    assert nina.get("/").headers["Location"].startswith("/login")

    # Still temporary: held again.
    nina = signed_in(app, "nina@acme.example.com", temporary, lands_on=PASSWORD_PAGE)
    assert nina.get("/runners/").headers["Location"] == PASSWORD_PAGE
    changed = change_password(nina, temporary, "nina's very own passphrase")
    assert changed.headers["Location"] == "/"
    dashboard = nina.get("/")
    assert dashboard.status_code == 200 and "Password changed." in dashboard.get_data(as_text=True)
    for url in GATED:
        assert nina.get(url).headers.get("Location") != PASSWORD_PAGE, url
    assert REQUIRED not in nina.get(PASSWORD_PAGE).get_data(as_text=True)  # a normal change page again


def test_the_temporary_password_cannot_be_kept(app, client, auth, lender):
    _, admin = lender
    temporary = _invited(client, auth, admin)
    nina = signed_in(app, "nina@acme.example.com", temporary, lands_on=PASSWORD_PAGE)

    refused = change_password(nina, temporary, temporary)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and REQUIRED in page
    assert re.search(r'id="new_password-errors"><li>Choose a new password of your own; the temporary one '
                     r"cannot be kept", page)
    assert nina.get("/").headers["Location"] == PASSWORD_PAGE

    user = accounts.authenticate_user("nina@acme.example.com", temporary)  # the rule lives in the service
    with pytest.raises(ValidationFailed) as error:
        accounts.change_password(user, temporary, temporary)
    assert [e.path for e in error.value.errors] == ["password"]
    assert fresh_user(user.id).must_change_password and fresh_user(user.id).check_password(temporary)


def test_a_reset_makes_the_password_temporary_again(app, client, auth, lender, make_user):
    company, admin = lender
    vic = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    assert not vic.must_change_password and signed_in(app, vic.email).get("/").status_code == 200

    auth.login(admin.email)
    url = f"/settings/team/{vic.id}"
    temporary = SHOWN.search(post_form(client, url, f"{url}/reset-password").get_data(as_text=True)).group(1)
    assert fresh_user(vic.id).must_change_password
    theirs = signed_in(app, vic.email, temporary, lands_on=PASSWORD_PAGE)
    assert theirs.get("/runners/").headers["Location"] == PASSWORD_PAGE
    change_password(theirs, temporary, "vic chose this one himself")
    assert theirs.get("/runners/").status_code == 200 and not fresh_user(vic.id).must_change_password

    team.reset_user_password(Principal.for_user(admin), vic.id)  # again: the flag comes back
    assert fresh_user(vic.id).must_change_password


def test_a_temporary_password_comes_before_the_required_second_factor(app, lender):
    _, admin = lender
    mfa.confirm_enrolment(admin, code_at(mfa.start_enrolment(admin).secret, -1))  # the policy needs it
    mfa.set_policy(Principal.for_user(admin), require_second_factor=True)
    user = team.invite_user(Principal.for_user(admin), name="Oli Officer", email="oli@acme.example.com",
                            roles=["credit_officer"])
    oli = app.test_client()
    # Sign-in goes to the password change first; enrolment stays open, every other page asks for the
    # new password, and the password page is not bounced to enrolment.
    assert AuthActions(oli).login(user.member.email, user.password).headers["Location"] == PASSWORD_PAGE
    assert oli.get(ENROL_PAGE).status_code == 200
    assert oli.get("/").headers["Location"] == PASSWORD_PAGE
    assert REQUIRED in oli.get(PASSWORD_PAGE).get_data(as_text=True)
    assert change_password(oli, user.password, "oli's own strong passphrase").headers["Location"] == "/"
    assert oli.get("/").headers["Location"] == ENROL_PAGE


def test_basic_auth_is_refused_until_the_password_is_changed(client, lender):
    _, admin = lender
    issued = team.invite_user(Principal.for_user(admin), name="Nina New", email="nina@acme.example.com",
                              roles=["credit_officer"])
    email = "nina@acme.example.com"

    body = assert_problem(client.get("/v1/whoami/", headers=basic(email, issued.password)), 401)
    assert "temporary" in body["detail"] and "change it" in body["detail"] and "browser" in body["detail"]
    wrong = assert_problem(client.get("/v1/whoami/", headers=basic(email, "not the password at all")), 401)
    assert "temporary" not in wrong["detail"]  # only the right password learns why
    reasons = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "login.failed",
                                                                  AuditEntry.target_id == issued.member.id))
    assert {"reason": "password_change_required", "via": "api"} in list(reasons)

    accounts.change_password(accounts.authenticate_user(email, issued.password), issued.password,
                             "nina's very own passphrase")
    response = client.get("/v1/whoami/", headers=basic(email, "nina's very own passphrase"))
    assert response.status_code == 200 and response.get_json()["id"] == issued.member.id


def test_the_team_list_shows_who_must_change_their_password(app, client, auth, lender):
    _, admin = lender
    nina_password = _invited(client, auth, admin)
    invite(client, name="Bo Borrower-Desk", email="bo@acme.example.com", roles=["viewer"])
    badge = "temporary password</span>"

    rows = _team_rows(client)
    assert badge in rows["Nina New"] and badge in rows["Bo Borrower-Desk"] and badge not in rows["Ada Admin"]
    assert audit_page(client.get("/settings/team").get_data(as_text=True)).problems == []

    nina = signed_in(app, "nina@acme.example.com", nina_password, lands_on=PASSWORD_PAGE)
    change_password(nina, nina_password, "nina's very own passphrase")
    rows = _team_rows(client)
    assert badge not in rows["Nina New"] and badge in rows["Bo Borrower-Desk"]
