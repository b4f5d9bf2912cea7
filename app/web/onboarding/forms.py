"""The sign-in forms of onboarding: a mobile number or email, then the one-time code."""

from __future__ import annotations

import re
import unicodedata

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from app.web.forms import Form


class DestinationForm(Form):
    destination = StringField(
        "Mobile number or email", validators=[DataRequired("Enter your mobile number or email."),
                                              Length(max=254)],
        description="We will send you a 6-digit code.")
    submit = SubmitField("Send code")


# Spaces (any kind) and dashes (any kind) people type or paste between the digits: "565 501", "565-501".
CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def code_digits(value: str | None) -> str | None:
    """The code without the spaces and dashes around or between its digits, in ASCII digits: a
    phone keyboard set to Hindi or Arabic types "१२३४५६" or "١٢٣٤٥٦", the same code to its owner,
    which "The code is 6 digits." refused."""
    if value is None:
        return None
    bare = CODE_SEPARATORS.sub("", value)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in bare)


class CodeForm(Form):
    code = StringField("6-digit code", filters=[code_digits], validators=[
        DataRequired("Enter the code we sent you."),
        Regexp(r"^[0-9]{6}$", message="The code is 6 digits.")])
    submit = SubmitField("Continue")


class ResendForm(Form):
    submit = SubmitField("Send a new code")
