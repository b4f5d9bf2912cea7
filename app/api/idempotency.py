"""`@idempotent`: the HTTP side of idempotency keys (header or body field), around a view."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request

from app.services import idempotency
from app.services.errors import FieldError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
BODY_FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers worth replaying; the rest (dates, security headers) are added afresh to every answer.
_SAVED_HEADERS = ("Location",)

HEADER_DOC = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": "Retry-safe key, scoped to the caller and kept 24 h: the same key and body "
                   "replay the first answer, another body is a 422, a request still running a 409.",
}


def _request_key(body: Any) -> str | None:
    header = request.headers.get(HEADER)
    field = body.get(BODY_FIELD) if isinstance(body, dict) else None
    if header is not None and field is not None and header != field:
        raise ValidationFailed("Two different idempotency keys.", [FieldError(
            BODY_FIELD, f"Differs from the {HEADER} header; send one of them.")])
    key = header if header is not None else field
    return key if key is None or isinstance(key, str) else str(key)


def _fingerprint(body: Any) -> str:
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != BODY_FIELD}
    elif body is None:
        body = request.get_data(as_text=True)
    return idempotency.fingerprint(request.method, request.path, body)


def _replay(saved: idempotency.SavedResponse) -> Response:
    response = current_app.response_class(json.dumps(saved.body), status=saved.status,
                                          mimetype="application/json")
    for name, value in saved.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(view: F) -> F:
    """Run `view` at most once per idempotency key; without a key it runs as usual.

    Only 2xx answers are saved: a failed request releases its key, so a corrected retry works.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        body = request.get_json(silent=True)
        key = _request_key(body)
        if key is None:
            return view(*args, **kwargs)
        claim = idempotency.claim_key(g.principal, key, _fingerprint(body))
        if claim.replay is not None:
            return _replay(claim.replay)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.release_key(claim.record_id)
            raise
        if 200 <= response.status_code < 300 and response.is_json:
            headers = {h: response.headers[h] for h in _SAVED_HEADERS if h in response.headers}
            idempotency.complete_key(claim.record_id, response.status_code, response.get_json(), headers)
        else:
            idempotency.release_key(claim.record_id)
        return response

    # Documented with the operation's other parameters (functools.wraps carried `_apidoc` over).
    apidoc = copy.deepcopy(getattr(wrapper, "_apidoc", {}))
    apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(dict(HEADER_DOC))
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
