"""Runner dashboards: the list with filters, and one runner on its graph with store and activity."""

from flask import Blueprint

bp = Blueprint("runners", __name__, url_prefix="/runners")

from app.web.runners import views  # noqa: E402, F401  routes attach to bp
