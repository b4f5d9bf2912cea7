"""Security test helpers: TOTP codes at chosen time steps, an enrolled user, a second browser."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import User
from app.services import mfa
from tests.conftest import DEFAULT_PASSWORD, AuthActions, csrf_from


def code_at(secret: str, steps_from_now: int = 0) -> str:
    """The TOTP code `steps_from_now` 30 s steps away (the server accepts -1, 0 and +1)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


@dataclass
class Enrolled:
    user: User
    secret: str
    recovery_codes: list[str]


@pytest.fixture
def enrol() -> Callable[[User], Enrolled]:
    """Turn a second factor on for `user` with the previous step's code, leaving now and +1 usable."""

    def run(user: User) -> Enrolled:
        secret = mfa.start_enrolment(user).secret
        codes = mfa.confirm_enrolment(user, code_at(secret, -1))
        return Enrolled(user, secret, codes)

    return run


@pytest.fixture
def other_client(app: Flask) -> FlaskClient:
    """A second browser for the same user."""
    return app.test_client()


def verify(client: FlaskClient, code: str):
    token = csrf_from(client.get("/login/verify").get_data(as_text=True))
    return client.post("/login/verify", data={"code": code, "csrf_token": token})


def login_fully(auth: AuthActions, enrolled: Enrolled, steps_from_now: int = 0) -> None:
    response = auth.login(enrolled.user.email, DEFAULT_PASSWORD)
    assert response.headers["Location"] == "/login/verify"
    assert verify(auth.client, code_at(enrolled.secret, steps_from_now)).status_code == 302


def post_form(client: FlaskClient, page: str, url: str, **data: str):
    """Submit a form on `page` (taking its CSRF token) to `url`."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})
