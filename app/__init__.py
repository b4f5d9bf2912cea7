"""Flowdesk: the application factory."""

from __future__ import annotations

from typing import Any

from dotenv import load_dotenv
from flask import Flask

from app.api import register_api
from app.cli import register_cli
from app.config import INSTANCE_DIR, load_settings
from app.errors import register_error_handlers
from app.extensions import init_extensions
from app.jsontext import JSONProvider
from app.logs import configure_logging
from app.security_headers import register_security_headers
from app.services.effect_hooks import load_feature_hooks
from app.web import register_web


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI."""
    load_dotenv()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), template_folder="../templates",
                static_folder="../static")
    app.json = JSONProvider(app)  # request bodies nested too deeply are bad JSON, not a 500
    app.config.update(load_settings(config))

    configure_logging(app)
    init_extensions(app)
    load_feature_hooks()
    register_web(app)
    register_api(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_cli(app)
    return app
