"""JSON answers written without marshmallow's per-field dump, for the hottest and biggest answers.

flask-smorest dumps a view's result through its response schema, field by field: a tenth of
Execute Runner's time, and most of Get Runner's once a runner has hundreds of executions
(bench/README.md). A view may return `answer(payload)` instead when `payload` is built with exactly
its schema's fields, from JSON types and datetimes; flask-smorest passes a Response through, and the
schema still documents the operation. Each use has a test holding its bytes equal to what the
schema's dump and `jsonify` send.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, current_app


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # marshmallow's DateTime "iso" format
    raise TypeError(f"{type(value).__name__} is not JSON")


def answer(payload: dict[str, Any], status: int = 200) -> Response:
    """`payload` as `jsonify` would send it after a schema dump: sorted keys, compact, ASCII."""
    body = json.dumps(payload, default=_default, sort_keys=True, separators=(",", ":"))
    return current_app.response_class(f"{body}\n", status=status, mimetype="application/json")
