"""API token management: list, create (raw value shown once), revoke."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.services import tokens
from app.services.errors import ValidationFailed
from app.web.settings import bp
from app.web.settings.forms import RevokeForm, TokenForm


@bp.route("/tokens", methods=["GET", "POST"], endpoint="tokens")
@role_required("admin")
def tokens_page() -> Response:
    form = TokenForm()
    issued = None
    if form.validate_on_submit():
        try:
            issued = tokens.issue_api_token(current_principal(), current_user.company,
                                            name=form.name.data or "", roles=form.roles.data or [])
        except ValidationFailed as error:
            for field_error in error.errors:
                getattr(form, field_error.path, form.name).errors.append(field_error.message)
        else:
            form = TokenForm(formdata=None)
    response = make_response(render_template("settings/tokens.html", form=form, issued=issued,
                                              tokens=tokens.list_api_tokens(current_principal()),
                                              revoke_form=RevokeForm()))
    if issued:  # the page showing a new token must not linger in caches or history, like a password's
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: str) -> Response:
    if RevokeForm().validate_on_submit():
        token = tokens.revoke_api_token(current_principal(), token_id)
        flash(f"Token “{token.name}” revoked.", "success")
    return redirect(url_for("settings.tokens"))
