"""Keyset pagination over (created_at, id), newest first, with signed opaque continuation tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, or_

from app.extensions import db
from app.services.errors import FieldError, ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_SALT = "flowdesk.pagination.v1"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows; `continuation_token` is None on the last page."""

    items: list[T]
    continuation_token: str | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _bad_token() -> ValidationFailed:
    return ValidationFailed("Invalid continuation token.", [FieldError(
        "continuation_token", "Not a token this list issued; start again without it.")])


def encode_token(scope: str, created_at: datetime, row_id: str) -> str:
    """A signed position after which the next page starts; only meaningful for the same `scope`."""
    return _serializer().dumps({"s": scope, "t": created_at.isoformat(), "i": row_id})


def decode_token(scope: str, token: str) -> tuple[datetime, str]:
    """The position in `token`; a forged, edited or foreign token is a ValidationFailed."""
    try:
        data: Any = _serializer().loads(token)
        if not isinstance(data, dict) or data.get("s") != scope:
            raise _bad_token()
        return datetime.fromisoformat(data["t"]), str(data["i"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise _bad_token() from error


def paginate(statement: Select[Any], model: Any = None, *, scope: str, limit: int = DEFAULT_LIMIT,
             continuation_token: str | None = None, keys: tuple[Any, Any] | None = None,
             scalars: bool = True) -> Page[Any]:
    """Run `statement` (already filtered by tenant) one page at a time, newest first.

    Ordered by `model`'s (created_at, id), or by `keys`, two columns (a time, then a unique id)
    that each row also carries as attributes of the same names. `scalars=False` pages rows of
    columns instead of ORM objects.

    Keyset rather than offset: rows inserted while a client pages through never shift the
    window, so no row is returned twice and none that existed at the start is skipped.
    """
    at, row_id = keys or (model.created_at, model.id)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("Invalid limit.", [FieldError("limit", f"Between 1 and {MAX_LIMIT}.")])
    if continuation_token:
        after_at, after_id = decode_token(scope, continuation_token)
        # Spelled out rather than a row-value comparison, which not every backend plans well.
        statement = statement.where(or_(at < after_at, and_(at == after_at, row_id < after_id)))
    statement = statement.order_by(at.desc(), row_id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(statement) if scalars else db.session.execute(statement))
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_token(scope, getattr(last, at.key), getattr(last, row_id.key)))
