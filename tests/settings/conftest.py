"""Settings test helpers: a company with its admin, adding users through the Team page, signing in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Company, User
from tests.conftest import DEFAULT_PASSWORD, AuthActions
from tests.security.conftest import post_form

SHOWN = re.compile(r'id="temporary-password">([^<]+)<')


@pytest.fixture
def lender(make_company, make_user) -> tuple[Company, User]:
    company = make_company("Acme Lending", "acme")
    return company, make_user(company, name="Ada Admin", email="ada@acme.example.com")


def fresh_user(user_id: str) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def signed_in(app: Flask, email: str, password: str = DEFAULT_PASSWORD, *,
              lands_on: str = "/") -> FlaskClient:
    """A new browser signed in as `email`; sign-in sends it to `lands_on` (the dashboard, or the
    password change for a temporary password)."""
    client = app.test_client()
    assert AuthActions(client).login(email, password).headers.get("Location") == lands_on
    return client


def invite(client: FlaskClient, **data: str):
    return post_form(client, "/settings/team", "/settings/team", **data)


def change_password(client: FlaskClient, current: str, new: str):
    """Submit the Security page's password change as the signed-in user of `client`."""
    return post_form(client, "/account/password", "/account/password", current_password=current,
                     new_password=new, confirm=new)
