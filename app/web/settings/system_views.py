"""The System page: which sandbox isolation, executor, database and storage are active."""

from __future__ import annotations

from flask import render_template

from app.auth import current_principal, role_required
from app.services.system import system_report
from app.web.settings import bp


@bp.get("/system", endpoint="system")
@role_required("admin")
def system_page() -> str:
    return render_template("settings/system.html", report=system_report(current_principal()))
