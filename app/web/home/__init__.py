"""The signed-in landing page: a dashboard of what needs the user now, by role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from app.auth import current_principal
from app.htmx import is_partial_request
from app.services import dashboard, runners

bp = Blueprint("home", __name__)
POLL = "every 30s"  # how often the runner counts refresh themselves


@bp.get("/")
@login_required
def index() -> str:
    actor = current_principal()
    if is_partial_request():  # the counts poll: only the figures its fragment shows
        return render_template("home/_counts.html", counts=dashboard.runner_counts(actor), poll=POLL)
    return render_template("home/index.html", overview=dashboard.company_overview(actor), poll=POLL,
                           may_start=runners.may_operate(actor))
