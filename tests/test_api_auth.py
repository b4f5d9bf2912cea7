"""API authentication: Bearer tokens and HTTP Basic, with problem bodies on failure."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from app.extensions import db
from app.models.base import utcnow
from tests.conftest import DEFAULT_PASSWORD


def basic(email: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status
    return body


def test_bearer_token_identifies_its_company(client, make_token):
    token, raw = make_token(roles=("admin",))
    response = client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.get_json() == {"kind": "api", "id": token.id, "company_id": token.company_id,
                                   "roles": ["admin"], "name": "token test token"}


def test_basic_auth_with_staff_login(client, make_user):
    user = make_user(roles=("credit_officer",))
    response = client.get("/v1/whoami/", headers=basic(user.email, DEFAULT_PASSWORD))
    assert response.status_code == 200
    assert response.get_json()["company_id"] == user.company_id
    assert response.get_json()["roles"] == ["credit_officer"]


@pytest.mark.parametrize("header", [
    None,
    "Bearer",
    "Bearer fd_not-a-real-token",
    "Token abc",
    "Basic !!!not-base64",
])
def test_bad_credentials_are_401_problems(client, header):
    headers = {"Authorization": header} if header else {}
    body = assert_problem(client.get("/v1/whoami/", headers=headers), 401)
    assert "<html" not in str(body)


def test_wrong_basic_password_is_401(client, make_user):
    user = make_user()
    response = client.get("/v1/whoami/", headers=basic(user.email, "wrong password"))
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_revoked_and_expired_tokens_are_refused(client, make_token):
    revoked, raw_revoked = make_token()
    expired, raw_expired = make_token()
    revoked.revoked_at = utcnow()
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for raw in (raw_revoked, raw_expired):
        assert_problem(client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}), 401)


def test_token_is_stored_only_as_hash(make_token):
    token, raw = make_token()
    assert raw not in (token.token_hash, token.prefix)
    assert raw.startswith(token.prefix)
    assert len(token.token_hash) == 64


def test_unknown_api_path_is_json_404(client, make_token):
    _, raw = make_token()
    assert_problem(client.get("/v1/nothing-here/", headers={"Authorization": f"Bearer {raw}"}), 404)


def test_api_needs_no_csrf(client, make_token):
    _, raw = make_token()
    response = client.post("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"})
    assert_problem(response, 405)  # reached routing (not a CSRF 400)


def test_a_signed_in_browser_session_opens_nothing_in_the_api(client, auth, make_user, make_token):
    """The API keeps no cookie session: a staff cookie neither authenticates a call nor is re-sent,
    and a page after the call still finds the user signed in."""
    user = make_user(roles=("admin",))
    auth.login(user.email)
    assert_problem(client.get("/v1/whoami/"), 401)
    _, raw = make_token(user.company, roles=("admin",))
    answer = client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers and "Cookie" not in answer.headers.get("Vary", "")
    assert client.get("/").status_code == 200  # the page session is untouched
