"""The JSON API v1: thin handlers over services, authenticated by token or Basic auth."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

from app.api.auth import authenticate_request
from app.api.conventions import ApiBlueprint, FlowdeskApi

v1 = ApiBlueprint("api_v1", __name__, url_prefix="/v1")
v1.before_request(authenticate_request)

API_DESCRIPTION = (
    "Flowdesk's JSON API. Authenticate with `Authorization: Bearer <api token>` or HTTP Basic "
    "with a staff login. Errors are RFC 9457 problem bodies. Lists take `limit` and "
    "`continuation_token`; create and execute operations take an `Idempotency-Key`. "
    "See docs/api.md.")
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API token"},
    "basicAuth": {"type": "http", "scheme": "basic", "description": "A staff login"},
}


def _import_route_modules() -> None:
    """Import every module of this package, so each one's routes are on `v1` before it is registered.

    A route module imported later would fail: Flask refuses new routes on a registered blueprint.
    """
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def register_api(app: Flask) -> None:
    from app.api.sessions import PagesOnlySessionInterface
    from app.extensions import csrf

    _import_route_modules()
    from app.api.seed001 import flow_api  # seed 001's path, outside /v1

    csrf.exempt(v1)  # token/Basic-authenticated, no cookies: CSRF does not apply
    csrf.exempt(flow_api)
    app.session_interface = PagesOnlySessionInterface(
        tuple(f"{bp.url_prefix}/" for bp in (v1, flow_api)))
    api = FlowdeskApi(app, spec_kwargs={
        "title": "Flowdesk API", "version": "1", "openapi_version": "3.1.0",
        "info": {"description": API_DESCRIPTION},
        "security": [{name: []} for name in SECURITY_SCHEMES],
    })
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    api.register_blueprint(v1)
    api.register_blueprint(flow_api)
    app.extensions["flowdesk_api"] = api
