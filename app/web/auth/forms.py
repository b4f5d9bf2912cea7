"""Sign-in form."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app.web.forms import Form


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class LogoutForm(Form):
    """Logout is a POST with a CSRF token, so another site cannot sign people out."""

    submit = SubmitField("Sign out")


class SecondFactorForm(Form):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)],
                       description="The 6-digit code from your authenticator app, or one of your "
                                   "recovery codes.")
    submit = SubmitField("Verify")
