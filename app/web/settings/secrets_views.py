"""Company secrets page (admins): names only, values write-only; create, replace, delete."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.services import secrets
from app.services.errors import FieldError, ValidationFailed
from app.web.settings import bp
from app.web.settings.forms import DeleteSecretForm, SecretForm


def _value(form: SecretForm) -> Any:
    raw = form.value.data or ""
    if form.kind.data != "json":
        return raw
    try:
        value = json.loads(raw)
    except ValueError as error:
        # The parser's message quotes the input, and the input is the secret: say only where.
        raise ValidationFailed("Invalid JSON.", [FieldError(
            "value", f"Not valid JSON (line {getattr(error, 'lineno', '?')}).")]) from None
    if not isinstance(value, dict):
        raise ValidationFailed("Invalid JSON.", [FieldError("value", "Use a JSON object, e.g. "
                                                            '{"client_id": "…", "client_secret": "…"}.')])
    return value


@bp.route("/secrets", methods=["GET", "POST"], endpoint="secrets")
@role_required("admin")
def secrets_page() -> str | Response:
    form = SecretForm()
    if form.validate_on_submit():
        name = (form.name.data or "").strip()
        try:
            secrets.set_secret(current_principal(), name, _value(form))
        except ValidationFailed as error:
            for field_error in error.errors:
                getattr(form, field_error.path, form.name).errors.append(field_error.message)
        else:
            flash(f"Secret “{name}” saved.", "success")
            return redirect(url_for("settings.secrets"))
    form.value.data = ""  # a value typed once is never sent back, not even after an error
    return render_template("settings/secrets.html", form=form, mask=secrets.MASK,
                           names=secrets.list_secret_names(current_principal()),
                           delete_form=DeleteSecretForm())


@bp.post("/secrets/<name>/delete")
@role_required("admin")
def delete_secret(name: str) -> Response:
    if DeleteSecretForm().validate_on_submit():
        secrets.delete_secret(current_principal(), name)
        flash(f"Secret “{name}” deleted.", "success")
    return redirect(url_for("settings.secrets"))
