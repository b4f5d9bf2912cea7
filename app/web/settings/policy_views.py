"""Sign-in policy page (admins): whether admins and credit officers must use a second factor."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.services import mfa, team
from app.web.settings import bp
from app.web.settings.forms import PolicyForm


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in_policy")
@role_required("admin")
def sign_in_policy() -> str | Response:
    form = PolicyForm()
    if form.validate_on_submit():
        mfa.set_policy(current_principal(), require_second_factor=bool(form.require_second_factor.data))
        flash("Sign-in policy saved.", "success")
        return redirect(url_for("settings.sign_in_policy"))
    form.require_second_factor.data = mfa.second_factor_required(current_user.company_id)
    # Who the policy holds at their next page: before turning it on, the admin sees whom it stops
    # (themself included), instead of finding out from the people locked on the set-up page.
    without = team.held_by_second_factor_policy(current_principal())
    return render_template("settings/sign_in_policy.html", form=form, without=without)
