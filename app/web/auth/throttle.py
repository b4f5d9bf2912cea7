"""Sign-in throttling: failed password and code attempts per IP, per email and per API username."""

from __future__ import annotations

from flask import Response, current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse_many

from app.extensions import limiter
from app.services.errors import RateLimited

MESSAGE = "Too many sign-in attempts. Wait a few minutes, then try again."
# Only failures count: a person who signs in right is never slowed down by earlier typos.
DEFAULTS = {
    "FLOWDESK_LOGIN_LIMIT_PER_IP": "30 per minute; 300 per hour",
    "FLOWDESK_LOGIN_LIMIT_PER_EMAIL": "5 per minute; 30 per hour",
    "FLOWDESK_SECOND_FACTOR_LIMIT": "5 per minute; 20 per hour",
    "FLOWDESK_API_BASIC_LIMIT_PER_USERNAME": "10 per minute; 100 per hour",
}


def configured(name: str) -> str:
    return str(current_app.config.get(name) or DEFAULTS[name])


def per_ip() -> str:
    return configured("FLOWDESK_LOGIN_LIMIT_PER_IP")


def per_email() -> str:
    return configured("FLOWDESK_LOGIN_LIMIT_PER_EMAIL")


def per_second_factor() -> str:
    return configured("FLOWDESK_SECOND_FACTOR_LIMIT")


def ip_key() -> str:
    return "ip:" + (get_remote_address() or "-")


def email_key() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def pending_user_key() -> str:
    pending = session.get("mfa_pending") or {}
    return "mfa:" + str(pending.get("uid") or get_remote_address())


def form_came_back(response: Response) -> bool:
    """A sign-in POST that re-renders the form (200) failed; success and hand-offs redirect."""
    return response.status_code == 200


def _basic_username() -> str | None:
    if not request.path.startswith("/v1/") or request.authorization is None:
        return None
    if request.authorization.type != "basic":
        return None
    return (request.authorization.username or "").strip().lower()[:254] or None


def check_api_basic() -> None:
    """Before the API authenticates: refuse a username with too many recent Basic failures."""
    username = _basic_username()
    if username is None or not limiter.enabled:
        return
    for item in parse_many(configured("FLOWDESK_API_BASIC_LIMIT_PER_USERNAME")):
        if not limiter.limiter.test(item, "api-basic", username):
            raise RateLimited(MESSAGE)


def count_api_basic_failure(response: Response) -> Response:
    username = _basic_username()
    if username is not None and limiter.enabled and response.status_code == 401:
        for item in parse_many(configured("FLOWDESK_API_BASIC_LIMIT_PER_USERNAME")):
            limiter.limiter.hit(item, "api-basic", username)
    return response
