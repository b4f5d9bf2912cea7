"""Company settings pages (admins only): the index, API tokens, secrets, sign-in policy, audit log, team."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from app.web.settings import (  # noqa: E402, F401  routes attach to bp
    audit_views,
    index_views,
    outbound_views,
    policy_views,
    secrets_views,
    system_views,
    team_views,
    views,
)
