"""Forms of the designer pages: a new flow, a design version's name and JSON, and bare action buttons."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app import jsontext
from app.web.forms import Form

MAX_DOCUMENT_CHARS = 1_000_000  # far beyond any real design; stops a pasted log file early


def cannot_store(found: list[tuple[str, str]]) -> str:
    """The field's message for `jsontext.unstorable`'s findings: the first place and why."""
    path, reason = found[0]
    return f"This cannot be stored: {f'at {path}: ' if path else ''}{reason}"


class VisibleName:
    """A name people can read: a flow or version named only by invisible or control characters
    showed as a blank link (and PostgreSQL refuses a NUL)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        text = field.data or ""
        if any(unicodedata.category(c) == "Cc" for c in text):
            raise ValidationError("A name may not contain control characters.")
        if text and not any(unicodedata.category(c)[0] in "LNPS" for c in text):
            raise ValidationError("Give a name with at least one visible character.")


class NewFlowForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200), VisibleName()],
                       description="Shown to people, e.g. 'Personal loan'. Its slug is made from it.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Create flow")


class FlowDetailsForm(Form):
    """A flow's name and description as its page edits them (the slug stays: links and sub-flows use it)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200), VisibleName()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save name and description")


class JsonObject:
    """Parses a field's text as a JSON object into `field.parsed`, or explains where it breaks."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            value: Any = jsontext.loads(field.data or "")
        except ValueError as error:
            where = (f" (line {error.lineno}, column {error.colno})"
                     if isinstance(error, json.JSONDecodeError) else "")
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise ValidationError(f"This is not valid JSON: {reason}{where}.") from None
        if not isinstance(value, dict):
            raise ValidationError('A design is a JSON object: {"start_node": …, "nodes": […]}.')
        found = jsontext.unstorable(value)
        if found:
            raise ValidationError(cannot_store(found))


class DesignForm(Form):
    name = StringField("Version name", validators=[DataRequired(), Length(max=200), VisibleName()])
    document = TextAreaField("Design JSON", validators=[DataRequired(), Length(max=MAX_DOCUMENT_CHARS),
                                                        JsonObject()],
                             description="The design format is described in docs/designs.md. "
                                         "With JavaScript on, the drawing above edits this text for you.")
    submit = SubmitField("Save")

    def parsed_document(self) -> dict[str, Any]:
        """The document once `validate_on_submit()` passed (JsonObject checked it is an object)."""
        return jsontext.loads(self.document.data)


class DesignCheckForm(DesignForm):
    """The editor's fields as Validate posts them: only the document is checked, so a blank version
    name does not stop a check of the graph (Save still asks for it)."""

    name = StringField("Version name", validators=[Optional(), Length(max=200), VisibleName()])


class ActionForm(Form):
    """A POST button that carries only the CSRF token (validate, make current, duplicate)."""
