"""Runner dashboards: the list with filters, one runner on its graph with store and activity, and
starting runners or moving waiting ones on."""

from flask import Blueprint

bp = Blueprint("runners", __name__, url_prefix="/runners")

from app.web.runners import act_views, start_views, views  # noqa: E402, F401  routes attach to bp
