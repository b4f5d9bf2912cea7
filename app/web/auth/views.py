"""Sign-in / sign-out views: parse the form, call the accounts service, redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.services import accounts
from app.services.errors import AuthenticationFailed
from app.web.auth import bp
from app.web.auth.forms import LoginForm, LogoutForm


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so ?next= cannot bounce users to another site.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate_user(form.email.data or "", form.password.data or "")
        except AuthenticationFailed as error:
            form.password.errors.append(error.message)
        else:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user, remember=bool(form.remember.data))
            accounts.record_login(user)
            flash(f"Welcome, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("You have been signed out.", "info")
        return redirect(url_for("auth.login"))
    flash("Your session expired; please try again.", "warning")
    return redirect(url_for("home.index"))
