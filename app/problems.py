"""RFC 9457 problem bodies: the one function every JSON error goes through."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.http import HTTP_STATUS_CODES

from app.services.errors import FieldError

PROBLEM_BASE = "https://flowdesk.dev/problems/"


def problem(status: int, detail: str = "", *, title: str | None = None, type_: str | None = None,
            errors: list[FieldError] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    """Build an `application/problem+json` response."""
    title = title or HTTP_STATUS_CODES.get(status, "Error")
    body: dict[str, Any] = {
        "type": type_ or PROBLEM_BASE + title.lower().replace(" ", "-").replace("'", ""),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
