"""The sign-in forms of onboarding: a mobile number or email, then the one-time code."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp


class DestinationForm(FlaskForm):
    destination = StringField(
        "Mobile number or email", validators=[DataRequired("Enter your mobile number or email."),
                                              Length(max=254)],
        description="We will send you a 6-digit code.")
    submit = SubmitField("Send code")


class CodeForm(FlaskForm):
    code = StringField("6-digit code", validators=[
        DataRequired("Enter the code we sent you."),
        Regexp(r"^\s*\d{6}\s*$", message="The code is 6 digits.")])
    submit = SubmitField("Continue")


class ResendForm(FlaskForm):
    submit = SubmitField("Send a new code")
