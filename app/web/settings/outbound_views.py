"""Outbound allowlist page (admins): private hosts and networks this company's calls may reach."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.auth import current_principal, role_required
from app.services import outbound_allowlist
from app.services.errors import ValidationFailed
from app.web.forms import Form
from app.web.settings import bp


class AllowEntryForm(Form):
    value = StringField("Host or network", validators=[DataRequired(), Length(max=255)],
                        description="A host name (vendor.internal; bücher.internal is kept as "
                                    "xn--bcher-kva.internal), an IP address, or a CIDR network "
                                    "(10.20.0.0/16). Public destinations need no entry.")
    note = StringField("Note", validators=[Optional(), Length(max=200)],
                       description="Why this destination is allowed, e.g. 'core banking on the VPN'.")
    submit = SubmitField("Allow")


class RemoveEntryForm(Form):
    submit = SubmitField("Remove")


@bp.route("/outbound", methods=["GET", "POST"], endpoint="outbound")
@role_required("admin")
def outbound_page() -> str | Response:
    form = AllowEntryForm()
    if form.validate_on_submit():
        try:
            entry = outbound_allowlist.add_entry(current_principal(), form.value.data or "",
                                                 note=form.note.data or "")
        except ValidationFailed as error:
            for field_error in error.errors:
                getattr(form, field_error.path, form.value).errors.append(field_error.message)
        else:
            shown = outbound_allowlist.display_host(entry.value)
            # An internationalised name is kept in its xn-- form: say which one it became.
            flash(f"Calls may now reach {entry.value}" + (f" ({shown})." if shown != entry.value else "."),
                  "success")
            return redirect(url_for("settings.outbound"))
    return render_template("settings/outbound.html", form=form, remove_form=RemoveEntryForm(),
                           entries=outbound_allowlist.list_entries(current_principal()),
                           display_host=outbound_allowlist.display_host)


@bp.post("/outbound/<entry_id>/remove")
@role_required("admin")
def remove_outbound_entry(entry_id: str) -> Response:
    if RemoveEntryForm().validate_on_submit():
        outbound_allowlist.remove_entry(current_principal(), entry_id)
        flash("Entry removed.", "success")
    return redirect(url_for("settings.outbound"))
