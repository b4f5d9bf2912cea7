"""Reading a JSON-Schema form: field kinds, typed values from strings, and messages people can act on."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app.web.onboarding import schema_form

SCHEMA = {
    "type": "object",
    "required": ["age", "agree"],
    "properties": {
        "age": {"type": "integer", "minimum": 18, "title": "Age"},
        "amount": {"type": "number", "maximum": 1000},
        "born": {"type": "string", "format": "date"},
        "kind": {"type": "string", "enum": ["a", "b"], "enumNames": ["Alpha"]},
        "agree": {"type": "boolean", "const": True},
        "proof": {"type": "string", "format": "data-url"},
        "nested": {"type": "object"},
    },
}


def test_fields_follow_the_schema() -> None:
    fields = {f.name: f for f in schema_form.fields_for(SCHEMA)}
    assert [f.kind for f in fields.values()] == ["number", "number", "date", "select", "checkbox", "file"]
    assert fields["age"].label == "Age" and fields["age"].required and fields["age"].attrs["min"] == 18
    assert fields["amount"].label == "Amount" and not fields["amount"].required
    assert fields["kind"].options == [("a", "Alpha"), ("b", "b")]  # missing enumNames fall back to values


def test_values_are_typed_and_unreadable_ones_reported() -> None:
    data, problems = schema_form.read_form(SCHEMA, MultiDict(
        {"age": "30", "amount": "12.5", "born": "1990-02-30", "kind": "a"}))
    assert data["age"] == 30 and data["amount"] == 12.5 and data["agree"] is False
    assert problems == {"born": ["Enter a date as YYYY-MM-DD."]}
    _, problems = schema_form.read_form(SCHEMA, MultiDict({"age": "3.5", "amount": "nan"}))
    assert problems == {"age": ["Enter a whole number."], "amount": ["Enter a number."]}


def test_schema_errors_become_plain_messages() -> None:
    errors = schema_form.validate(SCHEMA, {"age": 12, "amount": 5000, "kind": "z", "agree": False})
    assert errors == {"age": ["Enter 18 or more."], "amount": ["Enter 1000 or less."],
                      "kind": ["Choose one of the options."], "agree": ["Tick this box to continue."]}
    assert schema_form.validate(SCHEMA, {}) == {"age": ["This field is required."],
                                                "agree": ["This field is required."]}
