"""API tokens: issued once, listed and revoked by admins of the same company only."""

from __future__ import annotations

import re

import pytest

from app.services import tokens
from app.services.errors import NotFound, PermissionDenied
from app.services.principal import Principal
from tests.conftest import csrf_from


def test_admin_creates_token_and_sees_it_once(client, auth, make_user):
    admin = make_user(roles=("admin",))
    auth.login(admin.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    response = client.post("/settings/tokens", data={"csrf_token": csrf_from(page), "name": "LOS",
                                                     "roles": ["admin"]})
    html = response.get_data(as_text=True)
    raw = re.search(r'id="new-token">([^<]+)<', html).group(1)
    assert "will not be shown again" in html
    assert client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert raw not in client.get("/settings/tokens").get_data(as_text=True)


def test_token_form_errors_are_shown(client, auth, make_user):
    admin = make_user(roles=("admin",))
    auth.login(admin.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "checked" not in page.split('name="roles"', 1)[1].split("</ul>", 1)[0]  # no role pre-ticked
    html = client.post("/settings/tokens", data={"csrf_token": csrf_from(page), "name": ""}
                       ).get_data(as_text=True)
    assert "This field is required." in html and "Choose at least one role." in html


def test_tokens_of_one_company_are_invisible_to_another(make_company, make_user, make_token):
    company_a, company_b = make_company(), make_company()
    token_a, _ = make_token(company_a, name="A's token")
    admin_b = Principal.for_user(make_user(company_b, roles=("admin",)))
    assert [t.name for t in tokens.list_api_tokens(admin_b)] == []
    with pytest.raises(NotFound):
        tokens.revoke_api_token(admin_b, token_a.id)
    assert token_a.revoked_at is None


def test_token_of_company_a_never_reads_company_b(client, make_company, make_token):
    company_a, company_b = make_company(), make_company()
    _, raw_a = make_token(company_a)
    body = client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw_a}"}).get_json()
    assert body["company_id"] == company_a.id != company_b.id


def test_non_admin_cannot_issue(make_company, make_user):
    company = make_company()
    officer = Principal.for_user(make_user(company, roles=("credit_officer",)))
    with pytest.raises(PermissionDenied):
        tokens.issue_api_token(officer, company, name="nope")


def test_admin_revokes_through_the_page(client, auth, make_user, make_token):
    admin = make_user(roles=("admin",))
    token, raw = make_token(admin.company)
    auth.login(admin.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    client.post(f"/settings/tokens/{token.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_admin_of_other_company_gets_404_on_revoke(client, auth, make_company, make_user, make_token):
    token, raw = make_token(make_company())
    outsider = make_user(make_company(), roles=("admin",))
    auth.login(outsider.email)
    page = client.get("/settings/tokens").get_data(as_text=True)
    response = client.post(f"/settings/tokens/{token.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
