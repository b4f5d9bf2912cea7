"""Secrets page (admins): values write-only and masked; `flask secrets rotate-key` re-encrypts."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet
from sqlalchemy import select

from app.extensions import db
from app.models import CompanySecret, UserTotp
from app.services import mfa, secrets
from app.services.principal import Principal
from tests.security.conftest import code_at, post_form

VALUE = "sk_live_VERY-SECRET-4242"


def _save(client, name: str, value: str, kind: str = "text"):
    return post_form(client, "/settings/secrets", "/settings/secrets", name=name, kind=kind, value=value)


def test_admin_saves_secrets_that_are_never_shown_again(client, auth, make_user):
    admin = make_user()
    auth.login(admin.email)
    response = _save(client, "payment_gateway", VALUE)
    assert response.headers["Location"] == "/settings/secrets"
    _save(client, "bank", json.dumps({"client_id": "abc", "client_secret": VALUE}), kind="json")
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert "<code>payment_gateway</code>" in page and "<code>bank</code>" in page
    assert "********" in page and VALUE not in page
    view = secrets.SecretsView(admin.company_id)
    assert view["payment_gateway"] == VALUE
    assert view["bank"] == {"client_id": "abc", "client_secret": VALUE}
    for ciphertext in db.session.scalars(select(CompanySecret.ciphertext)):
        assert VALUE.encode() not in ciphertext


def test_errors_do_not_echo_the_value(client, auth, make_user):
    auth.login(make_user().email)
    truncated = json.dumps({"client_secret": VALUE})[:-1]
    bad_json = _save(client, "bank", truncated, kind="json").get_data(as_text=True)
    assert "Not valid JSON" in bad_json and VALUE not in bad_json
    bad_name = _save(client, "no spaces allowed", VALUE).get_data(as_text=True)
    assert "Use letters, digits and _." in bad_name and VALUE not in bad_name
    not_object = _save(client, "bank", json.dumps([VALUE]), kind="json").get_data(as_text=True)
    assert "Use a JSON object" in not_object and VALUE not in not_object


def test_delete_and_replace(client, auth, make_user):
    admin = make_user()
    auth.login(admin.email)
    _save(client, "temp", "one")
    _save(client, "temp", "two")
    assert secrets.SecretsView(admin.company_id)["temp"] == "two"
    post_form(client, "/settings/secrets", "/settings/secrets/temp/delete")
    assert "<code>temp</code>" not in client.get("/settings/secrets").get_data(as_text=True)


def test_only_admins_reach_the_page(client, auth, make_user):
    auth.login(make_user(roles=("credit_officer",)).email)
    assert client.get("/settings/secrets").status_code == 403
    assert client.post("/settings/secrets/x/delete").status_code in (400, 403)


def test_rotate_key_re_encrypts_secrets_and_totp_secrets(app, make_user, enrol):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["FLOWDESK_SECRETS_KEYS"] = old_key
    user = make_user()
    secrets.set_secret(Principal.for_user(user), "bank", {"client_secret": VALUE})
    enrolled = enrol(user)

    app.config["FLOWDESK_SECRETS_KEYS"] = f"{new_key},{old_key}"
    result = app.test_cli_runner().invoke(args=["secrets", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 company secret(s) and 1 second-factor secret(s)" in result.output

    app.config["FLOWDESK_SECRETS_KEYS"] = new_key  # the old key is gone: everything still reads
    db.session.expire_all()
    assert secrets.SecretsView(user.company_id)["bank"] == {"client_secret": VALUE}
    assert mfa.verify(user, code_at(enrolled.secret)) == "totp"
    row = db.session.scalar(select(UserTotp))
    assert Fernet(new_key).decrypt(row.secret_ciphertext).decode() == enrolled.secret


def test_rotate_key_moves_off_the_development_key(app, make_user):
    user = make_user()
    secrets.set_secret(Principal.for_user(user), "bank", "value")  # derived from SECRET_KEY
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["secrets", "rotate-key"])
    assert refused.exit_code != 0 and "FLOWDESK_SECRETS_KEYS is empty" in refused.output
    app.config["FLOWDESK_SECRETS_KEYS"] = Fernet.generate_key().decode()
    assert runner.invoke(args=["secrets", "rotate-key"]).exit_code == 0
    db.session.expire_all()
    assert secrets.SecretsView(user.company_id)["bank"] == "value"


def test_rotate_key_explains_a_bad_key(app):
    app.config["FLOWDESK_SECRETS_KEYS"] = "not-a-fernet-key"
    result = app.test_cli_runner().invoke(args=["secrets", "rotate-key"])
    assert result.exit_code != 0 and "invalid Fernet key" in result.output
