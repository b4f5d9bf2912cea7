"""Forms of the settings pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length

from app.models import Role


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)],
                       description="What will use this token, e.g. 'LOS integration'.")
    roles = SelectMultipleField(
        "Roles", choices=[SelectChoice(r.value, r.value.replace("_", " ").title()) for r in Role],
        default=[Role.ADMIN.value], validators=[DataRequired()],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
    submit = SubmitField("Create token")


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoke")
