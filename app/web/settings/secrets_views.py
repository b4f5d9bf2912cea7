"""Company secrets page (admins): names and where each may go, values write-only; create, replace, delete."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectMultipleField, TextAreaField, widgets
from wtforms.validators import Length, Optional

from app import jsontext
from app.auth import current_principal, role_required
from app.models.secret import SECRET_FIELDS
from app.services import secrets
from app.services.errors import FieldError, ValidationFailed
from app.web.settings import bp
from app.web.settings.forms import DeleteSecretForm, SecretForm

FIELD_LABELS = {"headers": "Headers", "body": "Body", "auth": "Auth (token login, encryption key)"}


class SecretPolicyForm(SecretForm):
    """The secret form plus where the value may go; an empty value keeps the stored one."""

    value = TextAreaField("Value", validators=[Optional(), Length(max=20_000)],
                          description="Stored encrypted; it is never shown again, here or anywhere. "
                                      "Leave empty to keep the stored value and change only where it may go.")
    allowed_fields = SelectMultipleField(
        "May be used in", choices=[SelectChoice(f, FIELD_LABELS[f]) for f in SECRET_FIELDS],
        # Nothing pre-ticked: a ticked Headers left alone while replacing a saved secret's value moved
        # a Body or Auth secret to Headers only ("none ticked keeps what it has" could never happen).
        validators=[Optional()],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
        description="Never the URL or query: those end up in logs. None ticked: a new secret is used "
                    "nowhere; a saved one keeps where it may be used.")
    allowed_hosts = TextAreaField("May be sent to", validators=[Optional(), Length(max=4000)],
                          description="Host names, one per line or comma-separated: api.vendor.com, "
                                      "*.vendor.com for its subdomains, or * for any host (not advised). "
                                      "Empty: a new secret goes nowhere; a saved one keeps its hosts.")


def _value(form: SecretForm) -> Any:
    raw = form.value.data or ""
    if not raw:
        return None
    if form.kind.data != "json":
        return raw
    try:
        value = jsontext.loads(raw)
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
    form = SecretPolicyForm()
    if form.validate_on_submit():
        name = (form.name.data or "").strip()
        actor = current_principal()
        # Least privilege: a new secret goes only where the admin said; a saved one keeps its policy
        # for whatever part of the form was left empty.
        keep: list[str] | None = None if name in {p.name for p in secrets.list_secret_policies(actor)} else []
        hosts = [h for h in re.split(r"[\s,]+", form.allowed_hosts.data or "") if h]
        try:
            secrets.set_secret(actor, name, _value(form), fields=form.allowed_fields.data or keep,
                               hosts=hosts or keep)
        except ValidationFailed as error:
            for field_error in error.errors:
                target = {"fields": form.allowed_fields, "hosts": form.allowed_hosts}.get(field_error.path)
                (target or getattr(form, field_error.path, form.name)).errors.append(field_error.message)
        else:
            flash(f"Secret “{name}” saved.", "success")
            return redirect(url_for("settings.secrets"))
    if form.is_submitted() and form.value.data:
        # A value typed once is never sent back, not even after an error. Say so at the box: otherwise
        # the admin fixes the name or hosts, saves again and meets "Enter the value", or, for a saved
        # name, is told "saved" while the old value silently stays.
        form.value.errors = [*form.value.errors, "Type the value again: it is never sent back to the page."]
    form.value.data = ""
    return render_template("settings/secrets.html", form=form, mask=secrets.MASK,
                           policies=secrets.list_secret_policies(current_principal()),
                           field_labels=FIELD_LABELS, delete_form=DeleteSecretForm())


@bp.post("/secrets/<name>/delete")
@role_required("admin")
def delete_secret(name: str) -> Response:
    if DeleteSecretForm().validate_on_submit():
        secrets.delete_secret(current_principal(), name)
        flash(f"Secret “{name}” deleted.", "success")
    return redirect(url_for("settings.secrets"))


# The outbound allowlist page lives beside this one; importing it here attaches its routes to the
# settings blueprint (move this into app/web/settings/__init__.py's list when integrating).
