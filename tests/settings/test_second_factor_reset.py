"""Settings → Team: an admin resets the second factor of a member who lost both their phone and their
recovery codes (they were locked out for good), and only where that makes sense."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, RecoveryCode, User, UserTotp
from app.services import mfa, team
from app.services.errors import Conflict, NotFound, PermissionDenied
from app.services.principal import Principal
from tests.conftest import DEFAULT_PASSWORD, AuthActions
from tests.security.conftest import code_at, post_form, verify
from tests.settings.conftest import signed_in
from tests.settings.test_ask_first import questions

ENROL = "/account/security/two-factor"


def _enrol(user: User) -> str:
    """Turn a second factor on for `user`; return its secret."""
    secret = mfa.start_enrolment(user).secret
    mfa.confirm_enrolment(user, code_at(secret, -1))
    return secret


def _page(client, user_id: str) -> str:
    return html.unescape(client.get(f"/settings/team/{user_id}").get_data(as_text=True))


def _second_factor_card(page: str) -> str:
    return re.search(r'<section class="card" id="second-factor">(.*?)</section>', page, re.S).group(1)


def _factor_rows(user_id: str) -> int:
    return sum(db.session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
               for model in (UserTotp, RecoveryCode))


@pytest.mark.parametrize("policy", [True, False], ids=["policy-requires-it", "no-policy"])
def test_an_admin_resets_a_locked_out_officers_second_factor(app, client, lender, make_user, policy):
    company, admin = lender
    officer = make_user(company, roles=("credit_officer",), name="Oli Officer", email="oli@acme.example.com")
    admin_secret, secret = _enrol(admin), _enrol(officer)  # the policy covers the admin too
    if policy:
        mfa.set_policy(Principal.for_user(admin), require_second_factor=True)
    officer_browser = app.test_client()
    for browser, user, code in ((officer_browser, officer, secret), (client, admin, admin_secret)):
        assert AuthActions(browser).login(user.email).headers["Location"] == "/login/verify"
        assert verify(browser, code_at(code)).status_code == 302
    assert officer_browser.get("/").status_code == 200

    page = _page(client, officer.id)
    assert "<dt>Second factor</dt><dd>on</dd>" in page
    asked = questions(page)
    assert asked["Reset second factor"] == ("Reset the second factor of Oli Officer? Their authenticator and "
                                            "recovery codes stop working and they are signed out everywhere.")
    response = post_form(client, f"/settings/team/{officer.id}",
                         f"/settings/team/{officer.id}/reset-second-factor")
    assert response.headers["Location"] == f"/settings/team/{officer.id}"

    page = _page(client, officer.id)
    assert "The second factor of Oli Officer was removed and they were signed out everywhere." in page
    if policy:
        assert "they set up a new second factor at their next sign-in" in page
    else:
        assert "They sign in with their password alone until they set up a new one under Security." in page
    assert "<dt>Second factor</dt><dd>off</dd>" in page
    assert "Oli Officer has no second factor set up." in _second_factor_card(page)
    assert "Reset second factor" not in questions(page)
    assert _factor_rows(officer.id) == 0  # authenticator and recovery codes are gone
    assert officer_browser.get("/").headers["Location"].startswith("/login")  # signed out everywhere

    audit = html.unescape(client.get("/settings/audit?action=user.second_factor_reset")
                          .get_data(as_text=True))
    row = re.search(r"<tr>\s*<td>[^<]+</td>\s*<td>Ada Admin.*?</tr>", audit, re.S)
    assert row and "<code>user.second_factor_reset</code>" in row.group(0) and officer.id in row.group(0)

    # At the next sign-in: the policy sends them to set up a new one; without it, the password is enough.
    signed_in(app, officer.email, DEFAULT_PASSWORD, lands_on=ENROL if policy else "/")


def test_the_reset_is_offered_only_where_it_can_work(app, client, auth, lender, make_company, make_user):
    company, admin = lender
    _enrol(admin)
    viewer = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    officer = make_user(company, roles=("credit_officer",), name="Oli Officer", email="oli@acme.example.com")
    _enrol(officer)
    other_admin = make_user(make_company(), name="Olga Otherco", email="olga@other.example.com")
    # Ada's own factor is on, so Bea (password only) walks the pages.
    second = make_user(company, name="Bea Admin", email="bea@acme.example.com")
    auth.login(second.email)

    own = _second_factor_card(_page(client, second.id))
    assert "Manage your own second factor under" in own and "Reset second factor" not in own
    with pytest.raises(Conflict, match="under Security"):
        team.reset_user_second_factor(Principal.for_user(second), second.id)

    none = _page(client, viewer.id)
    assert "Vic Viewer has no second factor set up." in _second_factor_card(none)
    assert "Reset second factor" not in questions(none)
    post_form(client, f"/settings/team/{viewer.id}", f"/settings/team/{viewer.id}/reset-second-factor")
    assert "Vic Viewer has no second factor to reset." in _page(client, viewer.id)

    # Another admin of the company is offered the reset like anyone else (Ada's factor is on).
    assert "Reset second factor" in questions(_page(client, admin.id))

    # Only admins, and only of the member's company; nothing changes for a refused one.
    with pytest.raises(PermissionDenied):
        team.reset_user_second_factor(Principal.for_user(officer), admin.id)
    with pytest.raises(NotFound):
        team.reset_user_second_factor(Principal.for_user(other_admin), officer.id)
    outsider = signed_in(app, other_admin.email)
    assert post_form(outsider, "/", f"/settings/team/{officer.id}/reset-second-factor").status_code == 404
    assert _factor_rows(officer.id) == 11 and _factor_rows(admin.id) == 11  # 1 secret + 10 codes
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "user.second_factor_reset")) == 0
