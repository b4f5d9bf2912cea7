"""Changing a password and signing out everywhere end the other sessions."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from tests.conftest import DEFAULT_PASSWORD, AuthActions
from tests.security.conftest import post_form

NEW_PASSWORD = "an entirely new passphrase"


def _change(client, current: str, new: str, confirm: str | None = None):
    return post_form(client, "/account/password", "/account/password", current_password=current,
                     new_password=new, confirm=confirm if confirm is not None else new)


def test_change_password_keeps_this_session_and_ends_the_others(client, auth, other_client, make_user):
    user = make_user()
    AuthActions(other_client).login(user.email)
    auth.login(user.email)
    response = _change(client, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.headers["Location"] == "/account/security"
    assert "Password changed." in client.get("/account/security").get_data(as_text=True)
    assert other_client.get("/").status_code == 302
    auth.logout()
    assert auth.login(user.email, DEFAULT_PASSWORD).status_code == 200
    assert auth.login(user.email, NEW_PASSWORD).status_code == 302
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "password.changed"))


def test_change_password_errors_are_shown_on_the_fields(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    assert "This is not your current password." in _change(client, "not it at all", NEW_PASSWORD).get_data(
        as_text=True)
    assert "Use at least 12 characters." in _change(client, DEFAULT_PASSWORD, "short").get_data(as_text=True)
    assert "The two new passwords differ." in _change(client, DEFAULT_PASSWORD, NEW_PASSWORD,
                                                      "something else!!").get_data(as_text=True)
    assert auth.logout().status_code == 302
    assert auth.login(user.email, DEFAULT_PASSWORD).status_code == 302  # unchanged


def test_sign_out_everywhere(client, auth, other_client, make_user):
    user = make_user()
    AuthActions(other_client).login(user.email)
    auth.login(user.email)
    response = post_form(client, "/account/security", "/account/sessions/end")
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert other_client.get("/").status_code == 302
    assert auth.login(user.email).status_code == 302  # signing in again works
