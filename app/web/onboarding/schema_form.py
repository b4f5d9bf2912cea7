"""A form node's JSON Schema as HTML fields: field specs, typed values from a POST, friendly errors.

Only a flat object schema is rendered (one field per top-level property); nested objects and
arrays are not, since a customer step should be one screen of simple questions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from werkzeug.datastructures import FileStorage, MultiDict

FILE_FORMATS = ("data-url", "binary", "file")


@dataclass
class FieldSpec:
    """One input: `kind` is text, email, tel, number, date, select, checkbox or file."""

    name: str
    label: str
    kind: str
    required: bool
    value: Any = None
    help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"f-{self.name}"


def _label(name: str, prop: dict[str, Any]) -> str:
    return str(prop.get("title") or name.replace("_", " ").capitalize())


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if "enum" in prop:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return "number"
    fmt = prop.get("format")
    if fmt in FILE_FORMATS:
        return "file"
    return {"date": "date", "email": "email", "phone": "tel"}.get(str(fmt), "text")


def properties(schema: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    props = (schema or {}).get("properties") or {}
    return {k: v for k, v in props.items()
            if isinstance(v, dict) and v.get("type") not in ("object", "array")}


def fields_for(schema: dict[str, Any] | None, values: dict[str, Any] | None = None,
               errors: dict[str, list[str]] | None = None) -> list[FieldSpec]:
    """The fields to render, in the schema's property order, with values and errors filled in."""
    values, errors = values or {}, errors or {}
    required = set((schema or {}).get("required") or [])
    specs = []
    for name, prop in properties(schema).items():
        kind = _kind(prop)
        spec = FieldSpec(name=name, label=_label(name, prop), kind=kind, required=name in required,
                         value=values.get(name, prop.get("default")), help=str(prop.get("description") or ""),
                         errors=errors.get(name, []))
        if kind == "select":
            names = prop.get("enumNames") or []
            spec.options = [(str(v), str(names[i]) if i < len(names) else str(v))
                            for i, v in enumerate(prop["enum"])]
        if kind == "number":
            spec.attrs["step"] = "1" if prop.get("type") == "integer" else "any"
            for key, attr in (("minimum", "min"), ("maximum", "max")):
                if key in prop:
                    spec.attrs[attr] = prop[key]
            spec.attrs["inputmode"] = "numeric" if prop.get("type") == "integer" else "decimal"
        if kind in ("text", "email", "tel"):
            for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
                if key in prop:
                    spec.attrs[attr] = prop[key]
        specs.append(spec)
    return specs


def _coerce(prop: dict[str, Any], raw: str) -> tuple[Any, str | None]:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        try:
            number = int(raw) if kind == "integer" else float(raw)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            return raw, "Enter a whole number." if kind == "integer" else "Enter a number."
        return (int(number) if float(number).is_integer() else number), None
    if prop.get("format") == "date":
        try:
            date.fromisoformat(raw)
        except ValueError:
            return raw, "Enter a date as YYYY-MM-DD."
    return raw, None


def read_form(schema: dict[str, Any] | None, form: MultiDict[str, str],
              only: str | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Typed values for the schema's fields from a POST, and the fields that could not be read.

    Empty optional fields are left out (JSON Schema treats missing and empty differently). File
    fields are not read here: the caller stores the upload and puts its reference in the data.
    """
    data: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, prop in properties(schema).items():
        if only and name != only:
            continue
        kind = _kind(prop)
        if kind == "file":
            continue
        if kind == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1", "yes")
            continue
        raw = (form.get(name) or "").strip()
        if raw == "":
            continue
        value, problem = _coerce(prop, raw)
        data[name] = value
        if problem:
            problems[name] = [problem]
    return data, problems


def file_fields(schema: dict[str, Any] | None) -> list[str]:
    return [name for name, prop in properties(schema).items() if _kind(prop) == "file"]


_MESSAGES: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "required": lambda _, __: "This field is required.",
    "pattern": lambda _, prop: (f"Enter it in the expected format ({prop['description']})."
                                if prop.get("description") else "Enter it in the expected format."),
    "minLength": lambda n, _: f"Enter at least {n} characters.",
    "maxLength": lambda n, _: f"Enter at most {n} characters.",
    "minimum": lambda n, _: f"Enter {n} or more.",
    "exclusiveMinimum": lambda n, _: f"Enter more than {n}.",
    "maximum": lambda n, _: f"Enter {n} or less.",
    "exclusiveMaximum": lambda n, _: f"Enter less than {n}.",
    "enum": lambda _, __: "Choose one of the options.",
    "const": lambda _, prop: ("Tick this box to continue." if prop.get("type") == "boolean"
                              else "Enter a valid value."),
    "format": lambda fmt, _: {"date": "Enter a date as YYYY-MM-DD.",
                              "email": "Enter a valid email address."}.get(fmt, "Enter a valid value."),
    "type": lambda t, _: {"integer": "Enter a whole number.", "number": "Enter a number."}.get(
        str(t), "Enter a valid value."),
}


def _message(error: Any, prop: dict[str, Any]) -> str:
    """A message a person can act on; jsonschema's own text quotes regexes and Python reprs."""
    make = _MESSAGES.get(error.validator)
    return make(error.validator_value, prop) if make else "Enter a valid value."


def validate(schema: dict[str, Any] | None, data: dict[str, Any],
             only: str | None = None) -> dict[str, list[str]]:
    """Field name -> messages a person can act on, from the node's JSON Schema."""
    if not schema:
        return {}
    props = (schema or {}).get("properties") or {}
    found: dict[str, list[str]] = {}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        if error.validator == "required":
            missing = [name for name in schema.get("required", []) if name not in data]
            for name in missing:
                found.setdefault(name, ["This field is required."])
            continue
        name = str(error.absolute_path[0]) if error.absolute_path else "__all__"
        message = _message(error, props.get(name) or {})
        if message not in found.get(name, []):
            found.setdefault(name, []).append(message)
    if only:
        return {only: found[only]} if only in found else {}
    return found


def errors_from_paths(errors: list[Any]) -> dict[str, list[str]]:
    """Service FieldErrors (paths like `data.pan` or `pan`) keyed by form field name."""
    found: dict[str, list[str]] = {}
    for error in errors:
        parts = [p for p in str(error.path).split(".") if p and p != "data"]
        found.setdefault(parts[0] if parts else "__all__", []).append(error.message)
    return found


def is_upload(value: Any) -> bool:
    return isinstance(value, FileStorage) and bool(value.filename)
