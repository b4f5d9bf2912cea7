"""Settings read from the environment, with typed defaults (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-change-me"  # noqa: S105  the sentinel production refuses
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # per file
# Any request body but an upload's (JSON, forms): read no more than this. Upload endpoints raise
# their own request's limit from the per-file limit (`request_limit`), so a large body is read only
# where files are expected.
MAX_BODY_BYTES = 16 * 1024 * 1024
# The files one API upload request is sized for. An onboarding step sets its own limit from the
# files it asks for.
FILES_PER_REQUEST = 5
# Room for the form's other fields and the multipart framing, on top of the files.
FORM_ALLOWANCE = 1024 * 1024


class ConfigError(RuntimeError):
    """The environment is not fit to start the app; the message says what to set."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'flowdesk.sqlite3'}"


@dataclass
class Settings:
    """Everything the app reads from the environment, in one place."""

    env: str = field(default_factory=lambda: _str("FLOWDESK_ENV", "development"))
    secret_key: str = field(default_factory=lambda: _str("SECRET_KEY", DEFAULT_SECRET_KEY))
    database_url: str = field(default_factory=lambda: _str("DATABASE_URL", _default_database_url()))
    executor: str = field(default_factory=lambda: _str("FLOWDESK_EXECUTOR", "inline"))
    redis_url: str = field(default_factory=lambda: os.environ.get("REDIS_URL", ""))
    demo: bool = field(default_factory=lambda: _bool("FLOWDESK_DEMO", False))
    log_level: str = field(default_factory=lambda: _str("LOG_LEVEL", "INFO"))
    log_json: bool = field(default_factory=lambda: _bool("LOG_JSON", True))
    session_hours: int = field(default_factory=lambda: _int("SESSION_HOURS", 12))
    outbound_allow_hosts: str = field(
        default_factory=lambda: os.environ.get("FLOWDESK_OUTBOUND_ALLOW_HOSTS", ""))
    outbound_allow_networks: str = field(
        default_factory=lambda: os.environ.get("FLOWDESK_OUTBOUND_ALLOW_NETWORKS", ""))
    inline_ticker: bool = field(default_factory=lambda: _bool("FLOWDESK_INLINE_TICKER", False))
    otp_sender: str = field(default_factory=lambda: _str("FLOWDESK_OTP_SENDER", "console"))
    secrets_keys: str = field(default_factory=lambda: os.environ.get("FLOWDESK_SECRETS_KEYS", ""))
    upload_max_bytes: int = field(
        default_factory=lambda: _int("FLOWDESK_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))
    secure_cookies: bool | None = field(
        default_factory=lambda: _bool("SECURE_COOKIES", False) if "SECURE_COOKIES" in os.environ
        else None
    )

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        """Refuse settings that would be unsafe or cannot work."""
        if self.executor not in {"inline", "celery"}:
            raise ConfigError(
                f"FLOWDESK_EXECUTOR must be 'inline' or 'celery', not {self.executor!r}."
            )
        if self.executor == "celery" and not self.redis_url:
            raise ConfigError("FLOWDESK_EXECUTOR=celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).")
        if self.production and (
            not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ConfigError(
                "SECRET_KEY is missing, the default, or shorter than 32 characters. Set SECRET_KEY to a "
                "long random value, e.g. SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if self.production:
            _check_secrets_keys(self.secrets_keys)
        if self.production and not self.demo and self.otp_sender.strip().lower() == "console":
            # The console sender writes each one-time code, beside the customer's number, to the log
            # and delivers none: customers could never sign in, and whoever reads logs could.
            raise ConfigError(
                "FLOWDESK_OTP_SENDER is 'console' (the default), which logs one-time codes instead of "
                "sending them. In production set FLOWDESK_OTP_SENDER=http (with FLOWDESK_OTP_HTTP_URL) "
                "or smtp (with FLOWDESK_SMTP_HOST); only a demo (FLOWDESK_DEMO=1) may keep 'console'.")

    def flask_config(self) -> dict[str, Any]:
        """Translate settings into Flask and extension config keys."""
        from datetime import timedelta

        secure = self.production if self.secure_cookies is None else self.secure_cookies
        return {
            "FLOWDESK_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "FLOWDESK_EXECUTOR": self.executor,
            "REDIS_URL": self.redis_url,
            "FLOWDESK_DEMO": self.demo,
            "FLOWDESK_OUTBOUND_ALLOW_HOSTS": self.outbound_allow_hosts,
            "FLOWDESK_OUTBOUND_ALLOW_NETWORKS": self.outbound_allow_networks,
            "FLOWDESK_SECRETS_KEYS": self.secrets_keys,
            "FLOWDESK_INLINE_TICKER": self.inline_ticker,
            "LOG_LEVEL": self.log_level,
            "LOG_JSON": self.log_json,
            "SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "SESSION_PROTECTION": "strong",
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_hours),
            "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, so long forms don't expire
            "FLOWDESK_UPLOAD_MAX_BYTES": self.upload_max_bytes,
            "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        }


_KEY_HOWTO = ("Generate one with: python -c 'from cryptography.fernet import Fernet; "
              "print(Fernet.generate_key().decode())' and set FLOWDESK_SECRETS_KEYS to it (to rotate "
              "later, put a new key first, keep the old ones after it, run `flask secrets rotate-key`).")


def _check_secrets_keys(raw: str) -> None:
    """Production keys company secrets with its own keys: the SECRET_KEY-derived fallback would tie
    every stored secret to the session key, so rotating one would break the other."""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ConfigError(f"FLOWDESK_SECRETS_KEYS is missing: production encrypts company secrets with "
                          f"it. {_KEY_HOWTO}")
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            # Never echo the key: the message ends up in logs and crash reports.
            raise ConfigError(f"FLOWDESK_SECRETS_KEYS key #{position} is not a Fernet key (32 bytes, "
                              f"url-safe base64). {_KEY_HOWTO}") from None


def request_limit(per_file: int, files: int = FILES_PER_REQUEST) -> int:
    """The largest body an upload request may send: `files` files of up to `per_file` bytes each,
    plus the form. Upload endpoints set it as their request's `max_content_length`, so a file the
    documents service would accept is never refused (413) for arriving with the others."""
    return per_file * max(files, 1) + FORM_ALLOWANCE


def describe_size(size: int) -> str:
    """A byte count for people, rounded down (a limit must not be overstated): 10 MB, 1.5 MB, 500 KB."""
    if size >= 1024 * 1024:
        return f"{int(size * 10 / (1024 * 1024)) / 10:g} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def engine_options(url: str) -> dict[str, Any]:
    """Per-backend engine options: SQLite gets WAL, a busy timeout and the writer queue
    (`app/models/sqlite.py`)."""
    if url.startswith("sqlite"):
        from app.models.sqlite import connect_args

        return {"connect_args": connect_args()}
    return {"pool_pre_ping": True}


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read settings from the environment, check them, and merge test overrides on top."""
    settings = Settings()
    settings.check()
    config = settings.flask_config()
    if overrides:
        config.update(overrides)
        if "SQLALCHEMY_DATABASE_URI" in overrides and "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
            config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(overrides["SQLALCHEMY_DATABASE_URI"])
    return config
