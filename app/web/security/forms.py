"""Forms of the account security pages."""

from __future__ import annotations

from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.web.forms import Form


class EnrolForm(Form):
    code = StringField("Code from the app", validators=[DataRequired(), Length(max=16)],
                       description="The 6 digits your authenticator app shows for Flowdesk now.")
    submit = SubmitField("Turn on")


class PasswordConfirmForm(Form):
    """Turning the factor off or replacing recovery codes asks for the password again."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Confirm")


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=256)],
                                 description="At least 12 characters. A few unrelated words work well.")
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", message="The two new passwords differ.")])
    submit = SubmitField("Change password")


class EndSessionsForm(Form):
    submit = SubmitField("Sign out everywhere")
