"""Store and params values as people read them: one short line each, the full JSON on demand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SHORT = 80  # characters shown in a table cell before the value is cut


@dataclass(frozen=True)
class ValueRow:
    key: str
    short: str
    full: str | None  # pretty JSON when `short` had to be cut, else None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def value_rows(data: Any) -> list[ValueRow]:
    """A row per top-level key, in key order. Values are shown as stored: whatever the services
    masked (SECRET-derived params) arrives here as ******** already."""
    if not isinstance(data, dict):
        return [] if data is None else [ValueRow("(value)", *_cut(data))]
    return [ValueRow(str(key), *_cut(data[key])) for key in sorted(data, key=str)]


def _cut(value: Any) -> tuple[str, str | None]:
    text = _text(value)
    if len(text) <= SHORT:
        return text, None
    full = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=str)
    return text[:SHORT - 1] + "…", full
