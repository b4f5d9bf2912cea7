"""Staff second factor: enrolment by QR code, the code step at sign-in, recovery codes, the policy."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, RecoveryCode, UserTotp
from app.services import accounts, mfa
from app.services.errors import AuthenticationFailed
from app.services.principal import Principal
from tests.conftest import DEFAULT_PASSWORD, csrf_from
from tests.security.conftest import code_at, login_fully, post_form, verify


def _actions(user) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == user.id)
                                   .order_by(AuditEntry.created_at)))


def test_enrolment_page_shows_a_qr_code_and_the_key(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    response = client.get("/account/security/two-factor")
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', html)
    assert match, "no QR image"
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    # Reloading keeps the same secret, so a scan made before a reload still works.
    assert secret in client.get("/account/security/two-factor").get_data(as_text=True)
    row = db.session.scalar(select(UserTotp).where(UserTotp.user_id == user.id))
    assert secret.encode() not in row.secret_ciphertext  # encrypted at rest


def test_confirming_with_a_code_turns_it_on_and_shows_ten_recovery_codes(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    page = client.get("/account/security/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)

    wrong = client.post("/account/security/two-factor",
                        data={"code": "000000", "csrf_token": csrf_from(page)})
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert not mfa.is_enrolled(user)

    response = client.post("/account/security/two-factor",
                           data={"code": code_at(secret), "csrf_token": csrf_from(page)})
    html = response.get_data(as_text=True)
    codes = re.findall(r'<code class="secret">([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>', html)
    assert len(set(codes)) == 10
    assert response.headers["Cache-Control"] == "no-store"
    assert mfa.is_enrolled(user)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}
    assert "mfa.enabled" in _actions(user)


def test_sign_in_asks_for_the_code_and_the_half_state_grants_nothing(client, auth, make_user, enrol):
    enrolled = enrol(make_user(name="Tara"))
    response = auth.login(enrolled.user.email)
    assert response.headers["Location"] == "/login/verify"
    for url in ("/", "/account/security", "/settings/tokens", "/settings/audit"):
        assert client.get(url).headers["Location"].startswith("/login"), url

    wrong = verify(client, "123456")
    assert "That code is not right." in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302

    assert verify(client, code_at(enrolled.secret)).headers["Location"] == "/"
    assert "Welcome, Tara." in client.get("/").get_data(as_text=True)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.succeeded")).one()
    assert entry.details["second_factor"] == "totp"
    failed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).one()
    assert failed.details["reason"] == "second_factor"


def test_a_code_works_only_once(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    code = code_at(enrolled.secret)
    auth.login(enrolled.user.email)
    assert verify(client, code).status_code == 302
    auth.logout()
    auth.login(enrolled.user.email)
    assert "That code is not right." in verify(client, code).get_data(as_text=True)
    assert verify(client, code_at(enrolled.secret, 1)).status_code == 302


def test_recovery_code_signs_in_once(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    code = enrolled.recovery_codes[3]
    auth.login(enrolled.user.email)
    response = verify(client, code.upper().replace("-", " "))
    assert response.status_code == 302
    assert "Recovery code used; 9 left." in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(enrolled.user.email)
    assert "That code is not right." in verify(client, code).get_data(as_text=True)
    assert "mfa.recovery_code_used" in _actions(enrolled.user)


def test_pending_sign_in_expires(client, auth, make_user, enrol, monkeypatch):
    enrolled = enrol(make_user())
    auth.login(enrolled.user.email)
    later = time.time() + 301
    monkeypatch.setattr("app.web.auth.views.time.time", lambda: later)
    response = client.get("/login/verify")
    assert response.headers["Location"] == "/login"


def test_password_change_voids_a_pending_sign_in(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    auth.login(enrolled.user.email)
    accounts.change_password(enrolled.user, DEFAULT_PASSWORD, "another long password here")
    assert client.get("/login/verify").headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_verify_page_without_a_password_step_goes_back_to_login(client):
    assert client.get("/login/verify").headers["Location"] == "/login"


def test_policy_sends_uncovered_officers_to_enrolment_and_nowhere_else(client, auth, make_user, make_company):
    company = make_company()
    admin = make_user(company)
    officer = make_user(company, roles=("credit_officer",))
    viewer = make_user(company, roles=("viewer",))
    mfa.set_policy(Principal.for_user(admin), require_second_factor=True)

    response = auth.login(officer.email)
    assert response.headers["Location"] == "/account/security/two-factor"
    for url in ("/", "/account/security", "/account/password"):
        assert client.get(url).headers["Location"] == "/account/security/two-factor", url
    page = client.get("/account/security/two-factor").get_data(as_text=True)
    assert "Your company requires a second factor" in page
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    client.post("/account/security/two-factor", data={"code": code_at(secret), "csrf_token": csrf_from(page)})
    assert client.get("/").status_code == 200
    auth.logout()

    auth.login(viewer.email)  # viewers are not covered by the policy
    assert client.get("/").status_code == 200


def test_turning_off_needs_the_password_and_is_refused_under_the_policy(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    login_fully(auth, enrolled)
    wrong = post_form(client, "/account/security", "/account/security/two-factor/disable",
                      **{"disable-password": "not my password"})
    assert wrong.status_code == 302 and mfa.is_enrolled(enrolled.user)

    mfa.set_policy(Principal.for_user(enrolled.user), require_second_factor=True)
    page = client.get("/account/security").get_data(as_text=True)
    assert "cannot be turned off" in page
    with pytest.raises(Exception, match="requires a second factor"):
        mfa.disable(enrolled.user, DEFAULT_PASSWORD)

    mfa.set_policy(Principal.for_user(enrolled.user), require_second_factor=False)
    post_form(client, "/account/security", "/account/security/two-factor/disable",
              **{"disable-password": DEFAULT_PASSWORD})
    assert not mfa.is_enrolled(enrolled.user)
    assert "mfa.disabled" in _actions(enrolled.user)


def test_new_recovery_codes_replace_the_old_ones(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    login_fully(auth, enrolled)
    response = post_form(client, "/account/security", "/account/security/recovery-codes",
                         **{"regenerate-password": DEFAULT_PASSWORD})
    new = re.findall(r'<code class="secret">([a-z2-7-]{19})</code>', response.get_data(as_text=True))
    assert len(new) == 10
    with pytest.raises(AuthenticationFailed):
        mfa.verify(enrolled.user, enrolled.recovery_codes[0])
    assert mfa.verify(enrolled.user, new[0]) == "recovery"


def test_basic_auth_is_refused_to_accounts_with_a_second_factor(make_user, enrol):
    plain = make_user()
    assert accounts.authenticate_basic(plain.email, DEFAULT_PASSWORD) == plain
    enrolled = enrol(make_user())
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_basic(enrolled.user.email, DEFAULT_PASSWORD)
    reasons = [e.details for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "login.failed"))]
    assert reasons == [{"reason": "second_factor_required", "via": "api"}]
