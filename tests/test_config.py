"""Settings from the environment, and the production guard on SECRET_KEY."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.config import DEFAULT_SECRET_KEY, ConfigError, load_settings


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY, "short"])
def test_production_refuses_missing_or_default_secret_key(monkeypatch, secret):
    monkeypatch.setenv("FLOWDESK_ENV", "production")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="Set SECRET_KEY"):
        create_app()


def test_production_starts_with_a_real_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.setenv("FLOWDESK_SECRETS_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("FLOWDESK_OTP_SENDER", "smtp")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("sender", [None, "console", " Console "])
def test_production_refuses_the_console_sender_that_logs_codes(monkeypatch, tmp_path, sender):
    monkeypatch.setenv("FLOWDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.setenv("FLOWDESK_SECRETS_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("FLOWDESK_DEMO", raising=False)
    if sender is None:
        monkeypatch.delenv("FLOWDESK_OTP_SENDER", raising=False)
    else:
        monkeypatch.setenv("FLOWDESK_OTP_SENDER", sender)
    with pytest.raises(ConfigError, match="logs one-time codes instead of sending them"):
        create_app()
    monkeypatch.setenv("FLOWDESK_DEMO", "1")  # a demo deployment may keep its outbox page
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    assert create_app().config["FLOWDESK_ENV"] == "production"


def test_defaults(monkeypatch):
    for name in ("DATABASE_URL", "FLOWDESK_EXECUTOR", "REDIS_URL", "FLOWDESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = load_settings()
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("instance/flowdesk.sqlite3")
    assert config["FLOWDESK_EXECUTOR"] == "inline"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("FLOWDESK_EXECUTOR", "celery")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    config = load_settings()
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["FLOWDESK_EXECUTOR"] == "celery"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


@pytest.mark.parametrize(("env", "message"), [
    ({"FLOWDESK_EXECUTOR": "threads"}, "must be 'inline' or 'celery'"),
    ({"FLOWDESK_EXECUTOR": "celery", "REDIS_URL": ""}, "needs REDIS_URL"),
])
def test_bad_settings_say_what_to_fix(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()
