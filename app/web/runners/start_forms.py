"""Forms that move runners from the browser: start one on a flow, submit an action at a waiting node."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app import jsontext
from app.web.designer.forms import cannot_store
from app.web.forms import Form

MAX_JSON_CHARS = 100_000  # far beyond a hand-typed object; stops a pasted file early


class JsonObject:
    """The field's text must be a JSON object (blank counts as `{}`); says where it breaks."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            value: Any = jsontext.loads(field.data or "{}") if (field.data or "").strip() else {}
        except json.JSONDecodeError as error:
            raise ValidationError(f"This is not valid JSON: {error.msg} (line {error.lineno}, "
                                  f"column {error.colno}).") from None
        if not isinstance(value, dict):
            raise ValidationError('Give a JSON object, such as {"amount": 500000}.')
        found = jsontext.unstorable(value)
        if found:  # it would reach the runner's store, which cannot keep it
            raise ValidationError(cannot_store(found))


def parsed(field: Field) -> dict[str, Any]:
    """The field's object once JsonObject passed."""
    text = (field.data or "").strip()
    return jsontext.loads(text) if text else {}


class StartForm(Form):
    flow = SelectField("Flow", validators=[DataRequired("Pick a flow.")],
                       description="Flows with a current design version; the runner uses that version.")
    payload = TextAreaField("Start data (JSON object)", default="{}",
                            validators=[Length(max=MAX_JSON_CHARS), JsonObject()],
                            description="What the start node receives, like the API's data field.")


class ActForm(Form):
    """One waiting node's form. Its node travels as a plain `node` field next to it, and the
    prefix comes from the node's name, so several nodes' forms share a page without clashing."""

    action = StringField("Action", validators=[DataRequired("Pick an action."), Length(max=120)])
    payload = TextAreaField("Data (JSON object)", default="{}",
                            validators=[Length(max=MAX_JSON_CHARS), JsonObject()],
                            description="Checked against the node's schema when you submit.")


def node_prefix(node: str) -> str:
    """A short id-safe prefix for a node's form (node names may hold any character)."""
    return "act-" + hashlib.blake2s(node.encode(), digest_size=4).hexdigest()


def act_form(node: str, **kwargs: Any) -> ActForm:
    return ActForm(prefix=node_prefix(node), **kwargs)
