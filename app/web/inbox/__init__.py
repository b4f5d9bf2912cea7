"""The credit officer's inbox: pending approvals and checklist tasks, and the request page."""

from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

from app.web.inbox import views  # noqa: E402, F401  routes attach to bp
