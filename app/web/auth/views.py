"""Sign-in (password, then a second factor when set up), sign-out; throttled on failures."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from app.models import User
from app.services import accounts, mfa
from app.services.errors import AuthenticationFailed
from app.web.auth import bp, throttle
from app.web.auth.forms import LoginForm, LogoutForm, SecondFactorForm

# The half-signed-in state between password and code: it names a user but grants nothing, since
# Flask-Login does not know the user yet. It dies after this many seconds.
PENDING_SECONDS = 300
PENDING_KEY = "mfa_pending"


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so ?next= cannot bounce users to another site.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _complete_login(user: User, *, remember: bool, next_url: str | None,
                    second_factor: str | None = None) -> Response:
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user, remember=remember)
    accounts.record_login(user, second_factor=second_factor)
    flash(f"Welcome, {user.name}.", "success")
    if user.must_change_password:  # the security gate holds every other page until it is changed
        return redirect(url_for("security.password"))
    if mfa.must_enrol(user):
        flash("Your company requires a second factor: set it up to continue.", "warning")
        return redirect(url_for("security.enrol"))
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(throttle.per_ip, key_func=throttle.ip_key, methods=["POST"],
               deduct_when=throttle.form_came_back, error_message=throttle.MESSAGE)
@limiter.limit(throttle.per_email, key_func=throttle.email_key, methods=["POST"],
               deduct_when=throttle.form_came_back, error_message=throttle.MESSAGE)
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
            next_url = request.args.get("next")
            if not mfa.is_enrolled(user):
                return _complete_login(user, remember=bool(form.remember.data), next_url=next_url)
            session.clear()
            session[PENDING_KEY] = {"uid": user.id, "v": user.session_version,
                                    "remember": bool(form.remember.data), "next": _safe_next(next_url),
                                    "exp": int(time.time()) + PENDING_SECONDS}
            return redirect(url_for("auth.verify"))
    return render_template("auth/login.html", form=form)


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("exp", 0) < time.time():
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending.get("uid"))
    # A password change or sign-out-everywhere since the password step voids it too.
    if user is None or not user.is_active or user.session_version != pending.get("v"):
        session.pop(PENDING_KEY, None)
        return None
    return user, pending


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(throttle.per_second_factor, key_func=throttle.pending_user_key, methods=["POST"],
               deduct_when=throttle.form_came_back, error_message=throttle.MESSAGE)
def verify() -> str | Response:
    found = _pending_user()
    if found is None:
        flash("Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            kind = mfa.verify(user, form.code.data or "")
        except AuthenticationFailed as error:
            accounts.record_failed_second_factor(user)
            form.code.errors.append(error.message)
        else:
            response = _complete_login(user, remember=bool(pending.get("remember")),
                                       next_url=pending.get("next"), second_factor=kind)
            if kind == "recovery":
                flash(f"Recovery code used; {mfa.remaining_recovery_codes(user)} left. "
                      "Make new ones from Security if you are running low.", "warning")
            return response
    return render_template("auth/verify.html", form=form)


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


@bp.before_app_request
def _throttle_api_basic() -> None:
    throttle.check_api_basic()


@bp.after_app_request
def _count_api_basic_failures(response: Response) -> Response:
    return throttle.count_api_basic_failure(response)
