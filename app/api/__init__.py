"""The JSON API v1: thin handlers over services, authenticated by token or Basic auth."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.api.auth import authenticate_request

v1 = Blueprint("api_v1", __name__, url_prefix="/v1")
v1.before_request(authenticate_request)


def register_api(app: Flask) -> None:
    from app.api import whoami  # noqa: F401  registers routes on v1
    from app.extensions import csrf

    csrf.exempt(v1)  # token/Basic-authenticated, no cookies: CSRF does not apply
    app.register_blueprint(v1)
