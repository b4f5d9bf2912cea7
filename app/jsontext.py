"""`json.loads` for text that comes from outside: request bodies, form fields, callbacks, vendors'
answers. Input nested deeper than Python's recursion limit raises `json.JSONDecodeError` like any
other JSON it cannot read, instead of a RecursionError that would surface as a 500 (or stop a
worker), so every caller's existing "not valid JSON" handling answers it."""

from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider

TOO_DEEP = "the data is nested too deeply"


def loads(text: str | bytes, **kwargs: Any) -> Any:
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        # No `doc`: the text may hold a secret (a secret's JSON value is parsed here too).
        raise json.JSONDecodeError(TOO_DEEP, "", 0) from None


def unstorable(value: Any, path: str = "") -> list[tuple[str, str]]:
    """`(path, message)` for each place `value` holds what the database cannot keep: a NUL in text
    (PostgreSQL refuses it) or a number JSON cannot carry (NaN, Infinity: Python's parser reads
    them, browsers and PostgreSQL do not). The API's schemas and the pages' JSON fields both ask."""
    if isinstance(value, str):
        return [(path, "Text may not contain NUL characters (\\u0000).")] if "\x00" in value else []
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, "Numbers must be finite (not NaN or Infinity).")]
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            child = child.replace("\x00", "\\u0000")  # named in a message: no NUL of its own
            found += unstorable(str(key), child) + unstorable(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += unstorable(item, f"{path}.{index}" if path else str(index))
    return found


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON (`request.get_json`) with `loads` above: deep bodies are bad JSON, a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
