"""Forms of the settings pages."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.models import Role
from app.web.forms import Form

# How a role reads, on the checkboxes and in the tables alike: "credit_officer" -> "Credit officer".
ROLE_LABELS = {r.value: r.value.replace("_", " ").capitalize() for r in Role}
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


def role_names(roles: list[str]) -> str:
    """"Admin, Credit officer": the roles as the checkboxes name them (an unknown one as stored)."""
    return ", ".join(ROLE_LABELS.get(role, role) for role in roles)


class TokenForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)],
                       description="What will use this token, e.g. 'LOS integration'.")
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES,
        # Nothing pre-ticked: a ticked Admin stayed on when someone meant a narrower token.
        validators=[DataRequired("Choose at least one role.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
    submit = SubmitField("Create token")


class RevokeForm(Form):
    submit = SubmitField("Revoke")


class SecretForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="Letters, digits and _; designs use it as ${SECRET.name}. "
                                   "An existing name is replaced.")
    kind = SelectField("Value type", choices=[SelectChoice("text", "Text"),
                                                    SelectChoice("json", "JSON object")], default="text")
    value = TextAreaField("Value", validators=[DataRequired(), Length(max=20_000)],
                          description="Stored encrypted; it is never shown again, here or anywhere.")
    submit = SubmitField("Save secret")


class DeleteSecretForm(Form):
    submit = SubmitField("Delete")


class PolicyForm(Form):
    require_second_factor = BooleanField("Require a second factor for admins and credit officers")
    submit = SubmitField("Save")


class AuditFilterForm(Form):
    """A GET form: filters are bookmarkable and change nothing, so no CSRF token."""

    class Meta:
        csrf = False

    action = SelectField("Action", default="")
    actor = StringField("Actor (name or id)", validators=[Optional(), Length(max=200)])
    target_type = StringField("Target type", validators=[Optional(), Length(max=32)])
    target_id = StringField("Target id", validators=[Optional(), Length(max=200)])
    since = DateField("From", validators=[Optional()])
    until = DateField("Until (inclusive)", validators=[Optional()])
    submit = SubmitField("Filter")

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("Until is before From: nothing could match. Swap the dates.")


ROLES_HELP = ("Admins manage settings, designs and the team; credit officers work the inbox and decide "
              "approvals; viewers only read.")


def _roles_field(default: list[str] | None = None) -> SelectMultipleField:
    return SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, default=default or [],
        validators=[DataRequired(message="Choose at least one role.")], description=ROLES_HELP,
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class InviteForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)], filters=[_strip])
    # The sign-in form checks addresses with Email(): an address it refuses could never sign in.
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)], filters=[_strip],
                       description="They sign in with it; it must not be in use already.")
    # Nothing pre-ticked: a ticked Viewer plus the role chosen would quietly give both.
    roles = _roles_field()
    submit = SubmitField("Add user")


class MemberRolesForm(Form):
    roles = _roles_field()
    submit = SubmitField("Save roles")


class MemberActionForm(Form):
    """Deactivate, reactivate or reset a password: a button and the CSRF token."""

    submit = SubmitField("Confirm")
