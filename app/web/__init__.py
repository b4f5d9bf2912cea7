"""HTML blueprints, one package per feature, and the navigation they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]  # empty: every signed-in user
    section: str = "top"  # "top": the top bar; "settings": the Settings page and its sub-navigation
    description: str = ""  # what the page is for, where it is listed with others


ADMIN = frozenset({"admin"})
# The one list of pages people navigate to; each appears only for the roles that may open it and only
# once its blueprint exists.
NAV = (
    NavItem("Dashboard", "home.index", frozenset()),
    NavItem("Designs", "designer.index", ADMIN),
    NavItem("Runners", "runners.index", frozenset({"admin", "credit_officer", "viewer"})),
    NavItem("Inbox", "inbox.index", frozenset({"admin", "credit_officer"})),
    NavItem("Settings", "settings.index", ADMIN),
    NavItem("Security", "security.index", frozenset()),
    NavItem("API tokens", "settings.tokens", ADMIN, "settings",
            "Credentials your loan systems use to call the Flowdesk API."),
    NavItem("Secrets", "settings.secrets", ADMIN, "settings",
            "Encrypted credentials your designs send to partner APIs, and where they may go."),
    NavItem("Outbound allowlist", "settings.outbound", ADMIN, "settings",
            # As the page says: code snippets have no network at all, so they are not named here.
            "Private hosts and networks that designs' API calls and the one-time-code gateway may reach."),
    NavItem("Team", "settings.team", ADMIN, "settings",
            "Who signs in to Flowdesk and with which roles: add people, deactivate them, reset passwords "
            "and second factors."),
    NavItem("Sign-in policy", "settings.sign_in_policy", ADMIN, "settings",
            "Whether admins and credit officers must use a second factor."),
    NavItem("Audit log", "settings.audit", ADMIN, "settings",
            "Who changed what and when, filtered and exported as CSV or JSON."),
    NavItem("System", "settings.system", ADMIN, "settings",
            "How this deployment runs workflows: executor, sandbox, database and storage."),
    NavItem("Outbox", "onboarding_outbox.index", ADMIN, "settings",  # demo mode only
            "Demo mode: the one-time codes sent to customers, to try onboarding without a phone."),
)
# The top-bar item that stays current while any page of its section is open.
SECTION_HOME = {"settings": "settings.index"}


def visible_nav(section: str = "top") -> list[NavItem]:
    """The section's items the signed-in user may open (by role), of blueprints this app has."""
    if not current_user.is_authenticated:
        return []
    return [item for item in NAV
            if item.section == section and item.endpoint in current_app.view_functions
            and (not item.roles or current_user.has_role(*item.roles))]


def current_nav(endpoint: str | None) -> str | None:
    """The top-bar endpoint to mark current on the page of `endpoint`."""
    for item in NAV:
        if item.endpoint == endpoint:
            return SECTION_HOME.get(item.section, item.endpoint)
    if endpoint and endpoint.partition(".")[0] == "settings":  # a settings page not in NAV
        return SECTION_HOME["settings"]
    return None


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
        return {"nav_items": visible_nav(), "settings_items": lambda: visible_nav("settings"),
                "nav_current": current_nav(request.endpoint)}
