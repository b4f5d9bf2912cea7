"""Health probes, request ids and JSON logs."""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from app import create_app
from app.extensions import db


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_pending_migrations(client):
    # The test schema is built from the models, so no alembic revision is recorded yet.
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "pending"}


def test_readyz_ok_when_at_head(client):
    from app.services.health import migration_heads

    db.session.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
    for head in migration_heads():
        db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_503_when_database_unreachable(app, tmp_path):
    from app import create_app

    broken = create_app({"TESTING": True, "SECRET_KEY": "x" * 40,
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id;<script>"}).headers["X-Request-ID"]
    assert generated and generated != "bad id;<script>"


def test_logs_are_json_lines_with_request_id(app, client):
    handler = logging.getLogger("app").handlers[0]
    records = []
    original = handler.emit
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    try:
        client.get("/healthz?token=secret-value", headers={"X-Request-ID": "req-42"})
    finally:
        handler.emit = original  # type: ignore[method-assign]
    line = json.loads(records[-1])
    assert line["request_id"] == "req-42"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert "secret-value" not in records[-1]


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_a_view_may_set_its_own_security_header_and_https_adds_hsts(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k" * 40,
                      "SESSION_COOKIE_SECURE": True})

    @app.get("/framed")
    def framed():
        return "ok", 200, {"x-frame-options": "SAMEORIGIN"}

    headers = app.test_client().get("/framed").headers
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]  # kept, not doubled
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_limits_come_only_from_decorators(app, monkeypatch):
    """The app-wide limit check is dropped because no default or application limit exists: a limit
    set that way would go unenforced, so configuring one keeps the check."""
    from app.extensions import limiter

    assert not limiter.limit_manager.default_limits and not limiter.limit_manager.application_limits
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    # The limiter is one object for every app: pretend a default limit exists rather than set one.
    monkeypatch.setattr(type(limiter.limit_manager), "default_limits", property(lambda _: ["1/second"]))
    guarded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k" * 40})
    assert limiter._check_request_limit in guarded.before_request_funcs[None]
