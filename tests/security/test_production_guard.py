"""Production refuses to start without its own key for company secrets, and says how to make one."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.config import ConfigError


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    monkeypatch.setenv("FLOWDESK_OTP_SENDER", "smtp")  # production refuses the console sender
    monkeypatch.delenv("FLOWDESK_SECRETS_KEYS", raising=False)
    return monkeypatch


def test_production_without_secrets_keys_refuses_to_start(production):
    with pytest.raises(ConfigError, match="FLOWDESK_SECRETS_KEYS is missing") as refused:
        create_app()
    assert "Fernet.generate_key()" in str(refused.value)


def test_a_key_that_is_not_a_fernet_key_is_refused_without_being_echoed(production):
    production.setenv("FLOWDESK_SECRETS_KEYS", f"{Fernet.generate_key().decode()},not-a-real-key-42")
    with pytest.raises(ConfigError, match="key #2 is not a Fernet key") as refused:
        create_app()
    assert "not-a-real-key-42" not in str(refused.value)


def test_production_starts_with_generated_keys(production):
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    production.setenv("FLOWDESK_SECRETS_KEYS", keys)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def test_development_still_starts_without_them(production):
    production.setenv("FLOWDESK_ENV", "development")
    assert create_app().config["FLOWDESK_SECRETS_KEYS"] == ""
