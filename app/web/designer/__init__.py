"""The admin's designer: flows, their design versions, the visual graph editor, validation."""

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designs")

from app.web.designer import onboarding_views, views  # noqa: E402, F401  routes attach to bp
