"""Each staff member's own security: second factor, recovery codes, password, sessions."""

from flask import Blueprint

bp = Blueprint("security", __name__, url_prefix="/account")

from app.web.security import views  # noqa: E402, F401  routes attach to bp
