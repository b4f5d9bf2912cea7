"""Request and response schemas of the Flow, Design and Utility endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.api.schemas import (
    AuditedSchema,
    BaseSchema,
    IdempotentSchema,
    IdFilter,
    ListQuerySchema,
    StrictBoolean,
    page_of,
)
from app.engine import NODE_TYPES

NAME = validate.Length(1, 200)
DESCRIPTION = validate.Length(max=10_000)
TAGS = fields.List(fields.String(validate=validate.Length(1, 50)), validate=validate.Length(max=50))
SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", error="Lower-case letters, digits and dashes.")
ID = validate.Length(1, 36)


class FlowSchema(AuditedSchema):
    name = fields.String(required=True)
    slug = fields.String(required=True)
    description = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    current_design_id = fields.String(allow_none=True, required=True, metadata={
        "description": "The design version new runners start on"})
    customer_onboarding = fields.Boolean(required=True, metadata={
        "description": "Customers may start the flow (at /onboard/<slug>); staff-only when false"})


class FlowCreateSchema(IdempotentSchema):
    name = fields.String(required=True, validate=NAME)
    slug = fields.String(validate=SLUG, metadata={
        "description": "Unique in the company; made from the name when left out. Subflow nodes may use it"})
    description = fields.String(load_default="", validate=DESCRIPTION)
    tags = TAGS


class FlowUpdateSchema(BaseSchema):
    name = fields.String(validate=NAME)
    description = fields.String(validate=DESCRIPTION)
    tags = TAGS
    customer_onboarding = StrictBoolean(metadata={
        "description": "Open the flow to customers (true) or make it staff-only (false)"})


class DesignSchema(AuditedSchema):
    flow_id = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    document = fields.Dict(required=True, metadata={"description": "The design JSON (docs/designs.md)"})
    checksum = fields.String(required=True, metadata={"description": "sha256 of the canonical JSON document"})
    is_valid = fields.Boolean(required=True)


class DesignCreateSchema(IdempotentSchema):
    flow_id = fields.String(required=True, validate=ID)
    name = fields.String(validate=NAME, metadata={"description": "Defaults to the document's or flow's name"})
    description = fields.String(load_default="", validate=DESCRIPTION)
    document = fields.Dict(required=True, metadata={
        "description": "The design JSON; top-level `id` and `version` are set by the server"})


class DesignUpdateSchema(BaseSchema):
    name = fields.String(validate=NAME)
    description = fields.String(validate=DESCRIPTION)
    document = fields.Dict()


class DesignDuplicateSchema(IdempotentSchema):
    name = fields.String(validate=NAME, metadata={"description": "Defaults to the source's name + (copy)"})


class DesignListQuerySchema(ListQuerySchema):
    flow_id = IdFilter("flow")


class ProblemItemSchema(BaseSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    node = fields.String(allow_none=True, required=True)
    edge = fields.Integer(allow_none=True, required=True)
    field = fields.String(allow_none=True, required=True)


class GraphValidationSchema(BaseSchema):
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(ProblemItemSchema), required=True)


class SchemaQuerySchema(BaseSchema):
    design_id = fields.String(validate=ID, metadata={"description": "With `node`: that node's data schema"})
    node = fields.String(validate=validate.Length(1, 100))
    node_type = fields.String(validate=validate.OneOf(sorted(NODE_TYPES)), metadata={
        "description": "That node type's config schema"})

    @ma.validates_schema
    def _one_subject(self, data: dict[str, Any], **_: Any) -> None:
        if ("design_id" in data) != ("node" in data):
            raise ma.ValidationError("Send design_id and node together.", "node" if "design_id" in data
                                     else "design_id")
        if "node_type" in data and "design_id" in data:
            raise ma.ValidationError("Ask for a node type or a design's node, not both.", "node_type")


class JsonSchemaSchema(BaseSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["design", "node_config", "node_data"]))
    schema = fields.Dict(required=True, metadata={"description": "A JSON Schema (draft 2020-12)"})


FlowPageSchema = page_of(FlowSchema, "FlowPageSchema")
DesignPageSchema = page_of(DesignSchema, "DesignPageSchema")
