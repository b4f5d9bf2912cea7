"""Request and response schemas of the Runner, Store and Warehouse endpoints (and seed 001's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.api.schemas import BaseSchema, IdempotentSchema, IdFilter, ListQuerySchema, StrictBoolean, page_of

ID = validate.Length(1, 36)
ACTION = validate.Length(1, 80)
NODE = validate.Length(1, 120)
STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "cancelled")
DATA = fields.Raw(allow_none=True, metadata={"description": "Any JSON, checked by the node's schema"})


# Far enough from datetime's ends that converting to UTC cannot overflow.
WHEN_RANGE = validate.Range(datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def _when(description: str) -> fields.AwareDateTime:
    # Aware: a naive time would reach a timezone-aware column and fail there.
    return fields.AwareDateTime(default_timezone=UTC, validate=WHEN_RANGE,
                                metadata={"description": description})


# --- requests -------------------------------------------------------------------------------------
START_DATA_ERRORS = {"invalid": "Must be a JSON object (the start node stores it)."}

class RunnerCreateSchema(IdempotentSchema):
    flow_id = fields.String(validate=validate.Length(1, 80), metadata={
        "description": "The flow (id or slug); its current design is used"})
    design_id = fields.String(validate=ID, metadata={"description": "A design version, instead of flow_id"})
    # The start node seeds the store with it, which only an object can: anything else made a
    # runner that failed at once (201, status failed) instead of a 422 on `data`.
    data = fields.Dict(allow_none=True, load_default=None, error_messages=START_DATA_ERRORS,
                       metadata={"description": "The start node's data, an object: it seeds the store"})
    action = fields.String(validate=ACTION, metadata={
        "description": "Also submit this action with `data` at the first waiting node"})

    @ma.validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        if "flow_id" not in data and "design_id" not in data:
            raise ma.ValidationError("Give flow_id or design_id.", "flow_id")


class RunnerCreateExecuteSchema(RunnerCreateSchema):
    action = fields.String(required=True, validate=ACTION)


class ExecuteSchema(IdempotentSchema):
    action = fields.String(required=True, validate=ACTION, metadata={"example": "auto"})
    data = fields.Raw(allow_none=True, load_default=None, metadata={"example": {}})
    node = fields.String(validate=NODE, metadata={
        "description": "The waiting node to act at, when the runner waits at several"})


class CancelSchema(BaseSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class StoreDataSchema(BaseSchema):
    data = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "Merged into the store: objects merge key by key, other values replace"})


class StoreCreateSchema(IdempotentSchema):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class RunnerDesignSchema(BaseSchema):
    design_id = fields.String(required=True, validate=ID, metadata={
        "description": "Another version of the runner's flow that has its current nodes"})


class ParseTemplateSchema(BaseSchema):
    template = fields.Raw(required=True, allow_none=True, metadata={
        "description": "A string or JSON value with `${...}` placeholders"})
    data = fields.Raw(allow_none=True, load_default=None, metadata={"description": "`data` in the context"})


class RunnerListQuerySchema(ListQuerySchema):
    flow_id = IdFilter("flow")
    design_id = IdFilter("design")
    status = fields.String(validate=validate.OneOf(STATUSES))
    stage = fields.String(validate=validate.Length(1, 80))
    created_after = _when("Created at or after this time")
    created_before = _when("Created before this time")
    q = fields.String(validate=validate.Length(1, 254), metadata={
        "description": "A ref_id (RUNNER-2511-18) or the customer's mobile or email"})


class WarehouseQuerySchema(ListQuerySchema):
    flow_id = IdFilter("flow", required=True)
    projection = fields.String(validate=validate.Length(1, 2000), metadata={
        "description": "JMESPath over each runner's store, e.g. `{pan: applicant.pan, amount: loan.amount}`"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    stage = fields.String(validate=validate.Length(1, 80))
    created_after = _when("Runners created at or after this time")
    created_before = _when("Runners created before this time")
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv answers text/csv; the next page's token is then in `Continuation-Token`"})


class Seed001RunnerSchema(IdempotentSchema):
    """Seed 001's exact payload."""

    flow_id = fields.String(required=True, validate=validate.Length(1, 80))
    email = fields.String(validate=validate.Length(1, 254))
    mobile = fields.String(validate=validate.Length(1, 32))
    create_if_not_exists = StrictBoolean(load_default=True)
    type = fields.String(load_default="customer", validate=validate.OneOf(["customer"]))
    action = fields.String(validate=ACTION)
    data = fields.Dict(allow_none=True, load_default=None, error_messages=START_DATA_ERRORS)

    @ma.validates_schema
    def _contact(self, data: dict[str, Any], **_: Any) -> None:
        if "email" not in data and "mobile" not in data:
            raise ma.ValidationError("Give the customer's email or mobile.", "email")


# --- responses ------------------------------------------------------------------------------------
class ExecutionSchema(BaseSchema):
    node = fields.String(required=True)
    attempt = fields.Integer(required=True)
    status = fields.String(required=True)
    error = fields.String(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True, allow_none=True)
    actor = fields.String(required=True, allow_none=True)
    action = fields.String(required=True, allow_none=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)


class RunnerSchema(BaseSchema):
    """A runner as listed: seed 001's fields that cost nothing extra, plus its lifecycle."""

    id = fields.String(required=True)
    company_id = fields.String(required=True)
    ref_id = fields.String(required=True, metadata={"description": "RUNNER-YYMM-N, unique per company"})
    flow_id = fields.String(required=True)
    design_id = fields.String(required=True)
    current_node = fields.String(required=True, allow_none=True)
    current_nodes = fields.List(fields.String(), required=True)
    store_id = fields.String(required=True)
    parent_runner_id = fields.String(required=True, allow_none=True)
    primary_user_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The customer's id"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_reason = fields.String(required=True, allow_none=True)
    stage = fields.String(required=True, allow_none=True)
    created_by = fields.String(required=True, allow_none=True)
    updated_by = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)


class StoreInfoSchema(BaseSchema):
    version = fields.Integer(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class RunnerDetailSchema(RunnerSchema):
    params = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The design's params rendered for this runner; secrets show as ********"})
    visited_nodes = fields.List(fields.String(), required=True)
    store_info = fields.Nested(StoreInfoSchema, required=True)
    executions = fields.List(fields.Nested(ExecutionSchema), required=True, metadata={
        "description": "One entry per node attempt, oldest first"})


class ElementSchema(BaseSchema):
    """A design node as seed 000's `element`."""

    name = fields.String(required=True)
    type = fields.String(required=True)
    stage = fields.String(allow_none=True)
    config = fields.Dict(required=True, allow_none=True)
    permissions = fields.List(fields.Dict(), required=True, allow_none=True)
    edges = fields.List(fields.Dict(), required=True, allow_none=True)


class RunnerStateSchema(BaseSchema):
    id = fields.String(required=True)
    ref_id = fields.String(required=True)
    status = fields.String(required=True)
    status_reason = fields.String(required=True, allow_none=True)
    stage = fields.String(required=True, allow_none=True)
    current_nodes = fields.List(fields.String(), required=True)


class ReplySchema(BaseSchema):
    node = fields.String(required=True)
    action = fields.String(required=True)
    data = fields.Raw(required=True, allow_none=True)


class ExecuteResultSchema(BaseSchema):
    """Seed 000's Execute Runner answer: the node the runner now stands on, and the runner."""

    id = fields.String(required=True, metadata={"description": "The runner's id"})
    company_id = fields.String(required=True)
    element = fields.Nested(ElementSchema, required=True, allow_none=True, metadata={
        "description": "The node the runner now waits at; null once it has ended"})
    tags = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    created_by = fields.String(required=True, allow_none=True)
    updated_by = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True, allow_none=True)
    runner = fields.Nested(RunnerStateSchema, required=True)
    replies = fields.List(fields.Nested(ReplySchema), required=True, metadata={
        "description": "What `return` edges answered, in order"})


class CurrentNodesSchema(BaseSchema):
    runner_id = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True, allow_none=True)
    current_nodes = fields.List(fields.Nested(ElementSchema), required=True)


class ActivitySchema(BaseSchema):
    id = fields.String(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    actor = fields.String(required=True, allow_none=True)
    node = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class StoreSchema(BaseSchema):
    id = fields.String(required=True)
    company_id = fields.String(required=True)
    runner_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The runner whose store this is; null for a standalone store"})
    data = fields.Dict(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True, allow_none=True)


class PublicNodeSchema(BaseSchema):
    name = fields.String(required=True)
    type = fields.String(required=True, allow_none=True)
    stage = fields.String(required=True, allow_none=True)
    form_schema = fields.Dict(required=True, allow_none=True, metadata={
        "description": "A form node's JSON Schema; null for other nodes"})


class FlowInfoSchema(BaseSchema):
    flow_name = fields.String(required=True, allow_none=True)
    runner_id = fields.String(required=True)
    ref_id = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True, allow_none=True)
    current_nodes = fields.List(fields.Nested(PublicNodeSchema), required=True)


class ParsedTemplateSchema(BaseSchema):
    result = fields.Raw(required=True, allow_none=True, metadata={
        "description": "The rendered value; secrets show as ********"})


class CallbackAckSchema(BaseSchema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(required=True, metadata={
        "description": "The event id was seen before: acknowledged, not applied again"})


class WarehouseRowSchema(BaseSchema):
    runner_id = fields.String(required=True)
    ref_id = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    data = fields.Raw(required=True, allow_none=True, metadata={"description": "The projected store"})


RunnerPageSchema = page_of(RunnerSchema, "RunnerPageSchema")
ActivityPageSchema = page_of(ActivitySchema, "ActivityPageSchema")
ExecutionPageSchema = page_of(ExecutionSchema, "ExecutionPageSchema")
StorePageSchema = page_of(StoreSchema, "StorePageSchema")
WarehousePageSchema = page_of(WarehouseRowSchema, "WarehousePageSchema")
