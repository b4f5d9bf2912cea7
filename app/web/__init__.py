"""HTML blueprints, one package per feature, and the navigation they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]  # empty: every signed-in user


# The one list of top-level pages; each appears only for the roles that may open it and only
# once its blueprint exists.
NAV = (
    NavItem("Dashboard", "home.index", frozenset()),
    NavItem("Designs", "designer.index", frozenset({"admin"})),
    NavItem("Runners", "runners.index", frozenset({"admin", "credit_officer", "viewer"})),
    NavItem("Inbox", "inbox.index", frozenset({"admin", "credit_officer"})),
    NavItem("API tokens", "settings.tokens", frozenset({"admin"})),
    NavItem("Secrets", "settings.secrets", frozenset({"admin"})),
    NavItem("Outbound allowlist", "settings.outbound", frozenset({"admin"})),
    NavItem("Sign-in policy", "settings.sign_in_policy", frozenset({"admin"})),
    NavItem("Audit log", "settings.audit", frozenset({"admin"})),
    NavItem("System", "settings.system", frozenset({"admin"})),
    NavItem("Security", "security.index", frozenset()),
    NavItem("Outbox", "onboarding_outbox.index", frozenset({"admin"})),  # demo mode only
)


def visible_nav() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [item for item in NAV
            if item.endpoint in current_app.view_functions
            and (not item.roles or current_user.has_role(*item.roles))]


def register_web(app: Flask) -> None:
    from app.web.auth import bp as auth_bp
    from app.web.designer import bp as designer_bp
    from app.web.home import bp as home_bp
    from app.web.inbox import bp as inbox_bp
    from app.web.ops import bp as ops_bp
    from app.web.runners import bp as runners_bp
    from app.web.security import bp as security_bp
    from app.web.settings import bp as settings_bp

    for bp in (ops_bp, auth_bp, home_bp, settings_bp, security_bp, inbox_bp, designer_bp, runners_bp):
        app.register_blueprint(bp)
    from app.web.onboarding import register_onboarding

    register_onboarding(app)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        return {"nav_items": visible_nav()}
