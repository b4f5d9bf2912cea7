"""API authentication: `Authorization: Bearer <api token>` or HTTP Basic with a staff login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from app.services import accounts, customer_auth, tokens
from app.services.errors import AuthenticationFailed, PermissionDenied
from app.services.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_ATTR = "api_public"
CUSTOMER_ATTR = "api_customer"


def authenticate_request() -> None:
    """Resolve the caller into `g.principal`; raise AuthenticationFailed (a 401 problem) otherwise."""
    view = _view_function()
    if request.method == "OPTIONS" or getattr(view, PUBLIC_ATTR, False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    raw = credentials.strip()
    if scheme.lower() == "bearer" and raw and customer_auth.looks_like_customer_token(raw):
        # Customers' tokens open only the endpoints marked for them (their own runner's steps);
        # everything else stays staff-only, whatever the token's claims say.
        if not getattr(view, CUSTOMER_ATTR, False):
            raise PermissionDenied("Customer tokens may only act on the customer's own runner.")
        g.principal = customer_auth.authenticate_access_token(raw).principal
    elif scheme.lower() == "bearer" and raw:
        g.principal = tokens.authenticate_api_principal(raw)
    elif scheme.lower() == "basic" and request.authorization and request.authorization.password:
        auth = request.authorization
        user = accounts.authenticate_basic(auth.username or "", auth.password or "")
        g.principal = Principal.for_user(user)
    else:
        raise AuthenticationFailed("Send an API token as 'Authorization: Bearer <token>' "
                                   "or a staff login with HTTP Basic.")


def _view_function() -> Any:
    from flask import current_app

    return current_app.view_functions.get(request.endpoint or "")


def customer_allowed(view: F) -> F:
    """Let customer access tokens call this view too (the service still scopes to their runner)."""
    setattr(view, CUSTOMER_ATTR, True)
    return view


def public(view: F) -> F:
    """Mark an API view as reachable without credentials."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def principal() -> Principal:
    return g.principal


def require_roles(*roles: str) -> Principal:
    """Return the caller if it holds one of `roles`, else raise PermissionDenied (403)."""
    caller: Principal = g.principal
    if not caller.has_role(*roles):
        raise PermissionDenied(f"This needs one of the roles: {', '.join(roles)}.")
    return caller
