"""Plain-data helpers: key/index look-ups, text conversion and JSON-ready output."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from app.engine.expressions.errors import ExpressionError

MASK = "********"


class Lazy:
    """Base of values that render on access (params views); `materialize()` renders them all."""

    __slots__ = ()

    def materialize(self) -> Any:
        raise NotImplementedError


def step(value: Any, key: Any) -> Any:
    """One look-up step: a Mapping key, or an int index into a list. Never raises.

    Missing keys, out-of-range indexes and look-ups into anything else (None, a number, a
    string) give None, so `${store.applicant.pan}` is None until the applicant exists. Only
    `__getitem__` is used: a Mapping (lazy SECRET) is never enumerated, no attribute is read.
    """
    if type(value) is dict:  # exact type: a dict subclass may override __getitem__
        return value.get(key)
    if isinstance(value, Mapping):
        try:
            return value[key]
        except (KeyError, TypeError):
            return None
    if isinstance(key, int) and not isinstance(key, bool) and _is_sequence(value):
        try:
            return value[key]
        except IndexError:
            return None
    return None


def _is_sequence(value: Any) -> bool:
    return type(value) is list or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray))


def resolve(context: Mapping[str, Any], root: str, segments: tuple[tuple[str, int | None], ...]
            ) -> Any:
    """Follow a dotted path; each segment is (key, index-if-numeric)."""
    value = step(context, root)
    for key, index in segments:
        if value is None:
            return None
        value = step(value, index if index is not None and _is_sequence(value) else key)
    return value


def to_text(value: Any) -> str:
    """How a value reads inside a string: JSON-like (`true`, `""` for None), ISO dates."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return _JSON_WORDS[value]
    if isinstance(value, int | float | datetime | date | timedelta):
        return str(_scalar(value))
    if isinstance(value, Lazy | Mapping | list | tuple):
        try:
            return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"),
                              default=_json_default)
        except (TypeError, ValueError, RecursionError):  # e.g. a tuple as a dict key
            raise ExpressionError("this value cannot be written as JSON text") from None
    return str(value)


def _scalar(value: Any) -> Any:
    """Dates as ISO 8601 text, durations (`now() - then`) as seconds, the rest unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


_JSON_WORDS = {None: "", True: "true", False: "false"}


def _json_default(value: Any) -> Any:
    if isinstance(value, Lazy):
        return value.materialize()
    if isinstance(value, Mapping):
        return dict(value)
    converted = _scalar(value)
    return str(value) if converted is value else converted


def to_output(value: Any) -> Any:
    """A JSON-ready copy: lazy views rendered, datetimes as ISO strings, tuples as lists.

    Containers are copied so whoever receives a render can mutate it without changing the
    context it came from (the runner's store). Other Mappings (SECRET) are kept as they are.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: to_output(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_output(v) for v in value]
    if isinstance(value, Lazy):
        return value.materialize()
    return _scalar(value)


def deep_plain(value: Any) -> Any:
    """Like `plain`, also inside lists and dicts an expression built (`{'p': params}`)."""
    kind = type(value)
    if kind is dict:
        return {k: deep_plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [deep_plain(v) for v in value]
    return plain(value)


def plain(value: Any) -> Any:
    """Function arguments: render lazy views, keep everything else (datetimes) as is."""
    if isinstance(value, Lazy):
        return value.materialize()
    return value
