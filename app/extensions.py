"""Extensions, created unbound; `init_extensions` binds them to an app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.htmx import htmx
from app.models.base import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_extensions(app: Flask) -> None:
    from app.auth import init_login
    from app.executors import init_executor
    from app.models import sqlite  # noqa: F401  registers the SQLite pragmas hook

    Path(app.instance_path).mkdir(exist_ok=True)
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          app.config.get("REDIS_URL") or "memory://")
    db.init_app(app)
    # Batch mode so ALTERs work on SQLite too.
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    init_login()
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _drop_app_wide_limit_check(app)
    init_executor(app)


def _drop_app_wide_limit_check(app: Flask) -> None:
    """Flask-Limiter checks default, application and blueprint limits before every request; we set
    none of those (every limit is a decorator on its view, which checks it in its own wrapper), and
    the empty check cost ~50 µs on every request (bench/README.md). Refuse to drop it if someone
    configures such limits later."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits:
        return
    check = limiter._check_request_limit  # the hook Flask-Limiter registered
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != check]


__all__ = ["csrf", "db", "htmx", "init_extensions", "limiter", "login_manager", "migrate"]
