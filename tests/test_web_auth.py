"""Staff sign-in through the browser forms."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.conftest import DEFAULT_PASSWORD, csrf_from


def test_login_page_has_csrf_and_labels(client):
    html = client.get("/login").get_data(as_text=True)
    assert csrf_from(html)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_login_success_redirects_and_shows_dashboard(client, auth, make_user):
    user = make_user(name="Asha Admin")
    response = auth.login(user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Asha Admin" in page
    assert "Welcome, Asha Admin." in page  # flash message


@pytest.mark.parametrize("password", ["wrong password!!", ""])
def test_login_failure_shows_one_message(client, auth, make_user, password):
    user = make_user()
    response = auth.login(user.email, password)
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    if password:
        assert "Invalid email or password." in response.get_data(as_text=True)


def test_unknown_email_gets_same_message_and_is_logged_without_what_was_typed(client, auth, caplog):
    caplog.set_level("WARNING", logger="app.services.accounts")
    response = auth.login("nobody@example.com", "whatever password")
    assert "Invalid email or password." in response.get_data(as_text=True)
    failed = [r for r in caplog.records if r.name == "app.services.accounts"]
    assert [(r.getMessage(), r.reason, r.via) for r in failed] == [("login failed", "unknown_account", "web")]
    # People type passwords into the email box too: neither box's text is logged.
    assert "nobody@example.com" not in caplog.text and "whatever password" not in caplog.text


def test_inactive_user_cannot_sign_in(app, client, auth, make_user):
    from app.extensions import db

    user = make_user()
    user.is_active = False
    db.session.commit()
    auth.login(user.email)
    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, client, auth, make_user):
    user = make_user()
    response = auth.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookies_in_production(monkeypatch):
    from app.config import load_settings

    monkeypatch.setenv("FLOWDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FLOWDESK_SECRETS_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("FLOWDESK_OTP_SENDER", "smtp")
    config = load_settings()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_logout_requires_post_with_csrf_and_ends_session(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={})  # no CSRF: refused, still signed in
    assert client.get("/").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_open_redirect_is_ignored(client, make_user):
    user = make_user()
    token = csrf_from(client.get("/login?next=https://evil.example/").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/",
                           data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_password_change_ends_other_sessions(app, client, auth, make_user):
    from app.services import accounts

    user = make_user()
    auth.login(user.email)
    assert client.get("/").status_code == 200
    accounts.change_password(user, DEFAULT_PASSWORD, "a brand new long password")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("roles", "visible", "hidden"),
    [
        # Settings pages are reached through one "Settings" item (tests/web_home checks the rest).
        (("admin",), ["Settings"], ["API tokens"]),
        (("credit_officer",), [], ["Settings", "API tokens"]),
        (("viewer",), [], ["Settings", "API tokens"]),
    ],
)
def test_navigation_shows_only_what_roles_allow(client, auth, make_user, roles, visible, hidden):
    user = make_user(roles=roles)
    auth.login(user.email)
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert "Dashboard" in nav
    for label in visible:
        assert label in nav
    for label in hidden:
        assert label not in nav


def test_role_required_returns_403_page(client, auth, make_user):
    user = make_user(roles=("viewer",))
    auth.login(user.email)
    response = client.get("/settings/tokens")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_404_page_is_html_for_people(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_500_page_hides_details(app, client, caplog):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "secret internals" not in body
