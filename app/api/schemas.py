"""Marshmallow schemas every resource shares: problems, pagination, audit fields, safe strings."""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma
from marshmallow import fields, validate

from app.jsontext import unstorable
from app.services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.services.principal import PrincipalKind


class StrictBoolean(fields.Boolean):
    """A JSON `true` or `false`, nothing else. marshmallow's Boolean also takes "yes", "on", 1 and
    "true", so a client's `{"done": "yes"}` would tick a checklist item for good; ours is a 422."""

    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class ActorId(fields.String):
    """Who acted, as every `*_by` field answers it: the user's, API token's or customer's id, or
    `system`. Approvals, checklists and documents store `<kind>:<id>` (e.g. `api:3f2c...`), while
    runners, flows and designs store the bare id, as seed 001's `created_by` shows it; a client
    comparing `created_by` across endpoints must see one format."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, str):
            kind, sep, ident = value.partition(":")
            if sep and kind in get_args(PrincipalKind):
                value = ident
        return super()._serialize(value, attr, obj, **kwargs)


class IdFilter(fields.UUID):
    """A list filter naming an object by its id, loaded as the id's text.

    A filter that is not an id matched nothing, so `?flow_id=personal-loan` (the slug Create
    Runner accepts) answered an empty list as if the flow had no runners; it is a 422 instead.
    """

    def __init__(self, what: str, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", f"Only this {what}'s (its id)")
        super().__init__(error_messages={"invalid_uuid": f"Give the {what}'s id (a UUID)."}, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs))


class BaseSchema(ma.Schema):
    """Rejects NUL characters and non-finite numbers anywhere in the input with a field path.

    Without this, such input would reach the database and fail there as a 500.
    """

    @ma.pre_load
    def _reject_unsafe_values(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict | list):
            found = unstorable(data)
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
    created_by = ActorId(dump_only=True, allow_none=True, required=True)
    updated_by = ActorId(dump_only=True, allow_none=True, required=True)
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
