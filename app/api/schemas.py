"""Marshmallow schemas every resource shares: problems, pagination, audit fields, safe strings."""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.services.pagination import DEFAULT_LIMIT, MAX_LIMIT


def _unsafe_values(value: Any, path: str) -> list[tuple[str, str]]:
    """Where `value` holds text PostgreSQL cannot store (NUL) or numbers JSON cannot carry (NaN, inf)."""
    if isinstance(value, str):
        return [(path, "Text may not contain NUL characters.")] if "\x00" in value else []
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, "Numbers must be finite.")]
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found += _unsafe_values(str(key), child) + _unsafe_values(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _unsafe_values(item, f"{path}.{index}" if path else str(index))
    return found


class BaseSchema(ma.Schema):
    """Rejects NUL characters and non-finite numbers anywhere in the input with a field path.

    Without this, such input would reach the database and fail there as a 500.
    """

    @ma.pre_load
    def _reject_unsafe_values(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict | list):
            found = _unsafe_values(data, "")
            if found:
                errors: dict[str, list[str]] = {}
                for path, message in found:
                    errors.setdefault(path or "_schema", []).append(message)
                raise ma.ValidationError(errors)
        return data


class FieldErrorSchema(BaseSchema):
    path = fields.String(required=True, metadata={"description": "Dotted field path, e.g. `document.nodes`"})
    message = fields.String(required=True)


class ProblemSchema(BaseSchema):
    """RFC 9457 problem details, the body of every error under /v1."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))


class ListQuerySchema(BaseSchema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Items per page (1-{MAX_LIMIT})"})
    continuation_token = fields.String(validate=validate.Length(1, 2000), metadata={
        "description": "Opaque token from the previous page's `continuation_token`"})


class PageSchema(BaseSchema):
    """A page of items; `continuation_token` is null on the last page."""

    continuation_token = fields.String(required=True, allow_none=True)


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A named page schema holding `item_schema` items (one component per resource in the spec)."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema), required=True)})


class AuditedSchema(BaseSchema):
    """The fields every stored object answers with, as in seed 000."""

    id = fields.String(dump_only=True, required=True)
    company_id = fields.String(dump_only=True, required=True)
    created_by = fields.String(dump_only=True, allow_none=True, required=True)
    updated_by = fields.String(dump_only=True, allow_none=True, required=True)
    created_at = fields.DateTime(dump_only=True, required=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True, required=True)


class IdempotentSchema(BaseSchema):
    """Request bodies of create/execute operations may carry the idempotency key as a field."""

    idempotency_key = fields.String(load_only=True, validate=validate.Length(1, 255), metadata={
        "description": "Same as the `Idempotency-Key` header"})

    @ma.post_load
    def drop_idempotency_key(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # The @idempotent layer reads the key from the raw request; handlers never see it.
        data.pop("idempotency_key", None)
        return data
