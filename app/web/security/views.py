"""Account security pages, and the gate that sends users to change a temporary password or enrol first."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.services import accounts, mfa
from app.services.errors import Conflict, PermissionDenied, ValidationFailed
from app.web.security import bp
from app.web.security.forms import ChangePasswordForm, EndSessionsForm, EnrolForm, PasswordConfirmForm

# What a user the gate holds may still reach: signing in and out, and setting up a second factor.
GATE_OPEN = frozenset({"security.enrol", "auth.logout", "auth.login", "auth.verify", "static"})


@bp.before_app_request
def _require_account_setup() -> Response | None:
    """Hold a signed-in user on one page until their account is usable: first a temporary password
    must be replaced (anyone who saw it could use it), then a required second factor set up."""
    if (request.endpoint is None or request.endpoint in GATE_OPEN
            or request.blueprint in {"api_v1", "ops"} or not current_user.is_authenticated):
        return None
    if current_user.must_change_password:
        return None if request.endpoint == "security.password" else redirect(url_for("security.password"))
    if mfa.must_enrol(current_user):
        return redirect(url_for("security.enrol"))
    return None


def _no_store(html: str) -> Response:
    # Pages showing a TOTP secret or recovery codes must not linger in caches or history.
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/security")
@login_required
def index() -> str:
    return render_template(
        "security/index.html", enrolled=mfa.is_enrolled(current_user),
        required=current_user.has_role(*mfa.POLICY_ROLES) and mfa.second_factor_required(
            current_user.company_id),
        remaining=mfa.remaining_recovery_codes(current_user),
        regenerate_form=PasswordConfirmForm(prefix="regenerate"),
        disable_form=PasswordConfirmForm(prefix="disable"), end_form=EndSessionsForm())


@bp.route("/security/two-factor", methods=["GET", "POST"])
@login_required
def enrol() -> Response:
    if mfa.is_enrolled(current_user):
        return redirect(url_for("security.index"))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(current_user, form.code.data or "")
        except ValidationFailed as error:
            form.code.errors.extend(e.message for e in error.errors)
        else:
            flash("Second factor turned on.", "success")
            return _no_store(render_template("security/recovery_codes.html", codes=codes))
    enrolment = mfa.start_enrolment(current_user)
    return _no_store(render_template("security/enrol.html", form=form, enrolment=enrolment,
                                     forced=mfa.must_enrol(current_user)))


@bp.post("/security/two-factor/disable")
@login_required
def disable() -> Response:
    form = PasswordConfirmForm(prefix="disable")
    if form.validate_on_submit():
        try:
            mfa.disable(current_user, form.password.data or "")
        except ValidationFailed as error:
            flash(_refused("The second factor is still on", error), "error")
        except PermissionDenied as error:
            flash(error.message, "error")
        else:
            flash("Second factor turned off.", "info")
    else:
        flash(_unsent("turn off the second factor", form), "error")
    return redirect(url_for("security.index"))


def _refused(outcome: str, error: ValidationFailed) -> str:
    # Both password boxes of the Security page land on one flash at its top: say which action it
    # answers ("Wrong password." alone did not), and what is still as it was.
    return f"{outcome}. {error.errors[0].message if error.errors else error.message}"


def _unsent(action: str, form: PasswordConfirmForm) -> str:
    # An empty password box used to come back to the page without a word: the button seemed to do nothing.
    if form.password.errors:
        return f"Type your password to {action}."
    return "The page had expired; nothing was changed. Try again."


@bp.post("/security/recovery-codes")
@login_required
def recovery_codes() -> Response:
    form = PasswordConfirmForm(prefix="regenerate")
    if form.validate_on_submit():
        try:
            codes = mfa.regenerate_recovery_codes(current_user, form.password.data or "")
        except ValidationFailed as error:
            flash(_refused("No new recovery codes; the old ones still work", error), "error")
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash("New recovery codes made; the old ones no longer work.", "success")
            return _no_store(render_template("security/recovery_codes.html", codes=codes))
    else:
        flash(_unsent("make new recovery codes", form), "error")
    return redirect(url_for("security.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    form = ChangePasswordForm()
    forced = current_user.must_change_password
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data or "",
                                     form.new_password.data or "")
        except ValidationFailed as error:
            for field_error in error.errors:
                field = "new_password" if field_error.path == "password" else field_error.path
                getattr(form, field, form.new_password).errors.append(field_error.message)
        else:
            # Every other session just died with the old session version; keep this one.
            login_user(current_user._get_current_object())
            flash("Password changed. Other devices have been signed out.", "success")
            # After a forced change the user was on their way in, not managing their account.
            return redirect(url_for("home.index" if forced else "security.index"))
    return render_template("security/password.html", form=form, forced=forced)


@bp.post("/sessions/end")
@login_required
def end_sessions() -> Response:
    if EndSessionsForm().validate_on_submit():
        accounts.end_all_sessions(current_user)
        logout_user()
        session.clear()
        flash("Signed out on every device, this one included.", "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("security.index"))
