"""Sign-in throttling: failures per email, per IP, per pending second factor, per API username."""

from __future__ import annotations

import base64

from tests.conftest import DEFAULT_PASSWORD
from tests.security.conftest import code_at, verify

MESSAGE = "Too many sign-in attempts. Wait a few minutes, then try again."


def basic(email: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_five_failures_lock_the_email_even_for_the_right_password(client, auth, make_user):
    user, other = make_user(), make_user()
    for _ in range(5):
        assert auth.login(user.email, "wrong password!!").status_code == 200
    blocked = auth.login(user.email)
    assert blocked.status_code == 429
    assert MESSAGE in blocked.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert auth.login(other.email).status_code == 302  # another account is not affected


def test_successful_sign_ins_are_not_counted(client, auth, make_user):
    user = make_user()
    for _ in range(7):
        assert auth.login(user.email).status_code == 302
        auth.logout()


def test_failures_from_one_address_are_limited_across_emails(app, auth):
    app.config["FLOWDESK_LOGIN_LIMIT_PER_IP"] = "3 per minute"
    for n in range(3):
        assert auth.login(f"nobody{n}@example.com", "whatever pass").status_code == 200
    assert auth.login("someone-else@example.com", "whatever pass").status_code == 429


def test_wrong_second_factor_codes_are_limited(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    auth.login(enrolled.user.email)
    for _ in range(5):
        assert verify(client, "000000").status_code == 200
    response = verify(client, code_at(enrolled.secret))
    assert response.status_code == 429
    assert client.get("/").status_code == 302


def test_api_basic_failures_are_limited_per_username(client, make_user, make_token):
    user = make_user()
    for _ in range(10):
        assert client.get("/v1/whoami/", headers=basic(user.email, "wrong password!!")).status_code == 401
    response = client.get("/v1/whoami/", headers=basic(user.email.upper(), DEFAULT_PASSWORD))
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == MESSAGE
    _, raw = make_token()
    assert client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
