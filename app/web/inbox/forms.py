"""Forms of the inbox pages. Decision forms are prefixed per request: many share one page."""

from __future__ import annotations

from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from app.web.forms import Form

AGES = [SelectChoice(value, label) for value, label in (
    ("", "Any age"), ("4", "Older than 4 hours"), ("24", "Older than a day"),
    ("72", "Older than 3 days"), ("168", "Older than a week"))]


class DecisionForm(Form):
    comment = TextAreaField("Comment", validators=[Length(max=4000)],
                            description="Required when you reject; the runner's history keeps it.")
    version = IntegerField("Version", validators=[Optional()], widget=HiddenField.widget)
    decision = HiddenField(validators=[DataRequired(), AnyOf(["approve", "reject"])])


class TickForm(Form):
    done = HiddenField(validators=[AnyOf(["1", "0"])])


class ReuploadForm(Form):
    note = TextAreaField("What should the customer fix?", validators=[DataRequired(), Length(max=2000)])


class VerifyForm(Form):
    pass


class FilterForm(Form):
    """A GET form: filters are bookmarkable and change nothing, so no CSRF token."""

    class Meta:
        csrf = False

    flow = SelectField("Flow", default="", validators=[Optional()])
    stage = SelectField("Stage", default="", validators=[Optional()])
    age = SelectField("Age", choices=AGES, default="", validators=[Optional()])
    sort = SelectField("Order", choices=[SelectChoice("newest", "Newest first"),
                                         SelectChoice("overdue", "Most overdue first")], default="newest")
