"""CLI: the demo loads idempotently; users can be created for real deployments."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, Company, User


def test_demo_load_is_idempotent_and_prints_credentials(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.flowdesk.example" in first.output
    assert "officer1@demo.flowdesk.example" in first.output
    assert "officer2@demo.flowdesk.example" in first.output
    token_line = next(line for line in first.output.splitlines() if line.startswith("API token"))
    raw = token_line.split(": ", 1)[1].strip()

    assert "Sign in at http://127.0.0.1:5000/login" in first.output

    second = runner.invoke(args=["demo", "load", "--base-url", "http://127.0.0.1:5088/"])
    assert second.exit_code == 0
    assert "already loaded" in second.output
    # The links follow where `make run` serves (PORT=5088 make run), not a fixed port.
    assert "Sign in at http://127.0.0.1:5088/login" in second.output
    assert "Customer onboarding: http://127.0.0.1:5088/onboard/" in second.output
    assert raw in second.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1

    client = app.test_client()
    assert client.get("/v1/whoami/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_demo_users_can_sign_in(app, auth):
    app.test_cli_runner().invoke(args=["demo", "load"])
    response = auth.login("officer1@demo.flowdesk.example", "demo-officer-password")
    assert response.status_code == 302


def test_users_create(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--company", "acme", "--company-name", "Acme",
                                 "--email", "Ops@Acme.example", "--name", "Ops", "--role", "admin",
                                 "--role", "viewer", "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ops@acme.example"))
    assert user.roles == ["admin", "viewer"]
    assert user.check_password("a long enough password")


def test_users_create_explains_bad_input(app):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["users", "create", "--company", "nope", "--email", "a@b.co",
                                  "--name", "A", "--role", "admin", "--password", "x" * 20])
    assert missing.exit_code != 0 and "pass --company-name" in missing.output
    short = runner.invoke(args=["users", "create", "--company", "acme", "--company-name", "Acme",
                                "--email", "a@b.co", "--name", "A", "--role", "admin",
                                "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
