"""The Settings page: every company settings page an admin may open, with what each is for."""

from __future__ import annotations

from flask import render_template

from app.auth import role_required
from app.web import visible_nav
from app.web.settings import bp


@bp.get("/", endpoint="index")
@role_required("admin")
def index() -> str:
    return render_template("settings/index.html", pages=visible_nav("settings"))
