"""CheckList endpoints (templates and runner checklists) under /v1/rego/: thin handlers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import marshmallow as ma
from marshmallow import fields, validate

from app.api import v1
from app.api.auth import principal
from app.api.idempotency import idempotent
from app.api.schemas import (
    ActorId,
    AuditedSchema,
    BaseSchema,
    IdempotentSchema,
    IdFilter,
    ListQuerySchema,
    StrictBoolean,
    page_of,
)
from app.models import Checklist, ChecklistTemplate
from app.services import checklists

FOUND = (400, 401, 403, 404, 422)
CHANGED = (*FOUND, 409)
TEMPLATE_TAG = ["CheckList Template"]
WORKFLOW_TAG = ["Workflow CheckList"]
ROLES = validate.OneOf(sorted(checklists.KNOWN_ROLES))


LABEL_DOC = ("Same as `title`: the name a design's checklist items (`items[].label`) and documents "
             "use for it. Send either; both answer.")


class _Labelled(BaseSchema):
    """An item's text answers as `title` and `label` alike, and is accepted as either.

    A design's checklist node lists its items as `{key, label, required}` and documents answer
    `label`, but checklists answered only `title`: a client reading items from a design found
    nothing under the name it knew, and a template sent with `label` was an unknown field.
    """

    label = fields.String(validate=validate.Length(1, 300), metadata={"description": LABEL_DOC})

    @ma.pre_load
    def _label_is_title(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and "label" in data:
            data = dict(data)
            label = data.pop("label")
            if "title" in data and data["title"] != label:
                raise ma.ValidationError("Differs from title; send one of them.", "label")
            data["title"] = label
        return data

    @ma.post_dump
    def _title_is_label(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["label"] = data.get("title")
        return data


class TemplateItemSchema(_Labelled):
    key = fields.String(validate=validate.Length(1, 120), metadata={
        "description": "Stable id of the item; made from the title when left out"})
    title = fields.String(required=True, validate=validate.Length(1, 300))
    required = StrictBoolean(load_default=True)
    roles = fields.List(fields.String(validate=ROLES), load_default=list, metadata={
        "description": "Roles that may tick it; empty means any officer"})


class TemplateSchema(AuditedSchema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    items = fields.List(fields.Nested(TemplateItemSchema), required=True)


TemplatePageSchema = page_of(TemplateSchema, "ChecklistTemplatePage")


class TemplateCreateSchema(IdempotentSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    items = fields.List(fields.Nested(TemplateItemSchema), required=True, validate=validate.Length(1, 200))


class TemplateUpdateSchema(BaseSchema):
    name = fields.String(validate=validate.Length(1, 200))
    description = fields.String(validate=validate.Length(max=10_000))
    items = fields.List(fields.Nested(TemplateItemSchema), validate=validate.Length(1, 200))


class ItemSchema(_Labelled):
    key = fields.String(required=True)
    title = fields.String(required=True)
    required = fields.Boolean(required=True)
    roles = fields.List(fields.String(), required=True)
    done = fields.Boolean(required=True)
    done_by = ActorId(allow_none=True)
    done_by_name = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    note = fields.String()


class ChecklistSchema(BaseSchema):
    id = fields.String(required=True)
    company_id = fields.String(required=True)
    runner_id = fields.String(required=True)
    flow_id = fields.String(allow_none=True)
    node = fields.String(required=True)
    stage = fields.String(allow_none=True)
    template_id = fields.String(allow_none=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open, completed or withdrawn"})
    completed_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


ChecklistPageSchema = page_of(ChecklistSchema, "ChecklistPage")


class ChecklistListQuerySchema(ListQuerySchema):
    runner_id = IdFilter("runner")
    status = fields.String(validate=validate.OneOf(["open", "completed", "withdrawn"]))


class StageQuerySchema(BaseSchema):
    stage = fields.String(validate=validate.Length(1, 80), metadata={
        "description": "Defaults to the runner's current stage"})


class ItemUpdateSchema(BaseSchema):
    done = StrictBoolean(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


def _page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "continuation_token": page.continuation_token}


@v1.route("/rego/checklist-templates/", methods=["POST"], tags=TEMPLATE_TAG)
@v1.operation("Create Checklist Template", errors=(400, 401, 403, 409, 422))
@idempotent
@v1.arguments(TemplateCreateSchema)
@v1.response(201, TemplateSchema)
def create_checklist_template(body: dict[str, Any]) -> ChecklistTemplate:
    return checklists.create_template(principal(), **body)


@v1.route("/rego/checklist-templates/<uuid:template_id>/", methods=["GET"], tags=TEMPLATE_TAG)
@v1.operation("Get CheckList Template", errors=FOUND)
@v1.response(200, TemplateSchema)
def get_checklist_template(template_id: UUID) -> ChecklistTemplate:
    return checklists.get_template(principal(), str(template_id))


@v1.route("/rego/checklist-templates/", methods=["GET"], tags=TEMPLATE_TAG)
@v1.operation("List CheckList Template")
@v1.arguments(ListQuerySchema, location="query")
@v1.response(200, TemplatePageSchema)
def list_checklist_templates(query: dict[str, Any]) -> dict[str, Any]:
    return _page(checklists.list_templates(principal(), **query))


@v1.route("/rego/checklist-templates/<uuid:template_id>/", methods=["PUT"], tags=TEMPLATE_TAG)
@v1.operation("Update CheckList Template", errors=CHANGED, description=(
    "Fields left out keep their value. Checklists already opened keep their own items."))
@v1.arguments(TemplateUpdateSchema)
@v1.response(200, TemplateSchema)
def update_checklist_template(body: dict[str, Any], template_id: UUID) -> ChecklistTemplate:
    return checklists.update_template(principal(), str(template_id), **body)


@v1.route("/rego/checklist-templates/<uuid:template_id>/", methods=["DELETE"], tags=TEMPLATE_TAG)
@v1.operation("Delete CheckList Template", errors=CHANGED, description=(
    "A 409 while a flow's current version, or a version with unfinished runners, names it."))
@v1.response(204)
def delete_checklist_template(template_id: UUID) -> tuple[str, int]:
    checklists.delete_template(principal(), str(template_id))
    return "", 204


@v1.route("/rego/runners/<uuid:runner_id>/checklist/", methods=["GET"], tags=WORKFLOW_TAG)
@v1.operation("Get checklist at runner stage", errors=FOUND)
@v1.arguments(StageQuerySchema, location="query")
@v1.response(200, ChecklistSchema)
def get_checklist_at_runner_stage(query: dict[str, Any], runner_id: UUID) -> Checklist:
    return checklists.checklist_at_stage(principal(), str(runner_id), query.get("stage"))


@v1.route("/rego/checklists/<uuid:checklist_id>/items/<string:key>/", methods=["PUT"], tags=WORKFLOW_TAG)
@v1.operation("Update Check List Item", errors=CHANGED, description=(
    "Ticks or unticks one item (who and when are kept). Ticking the last required item completes "
    "the checklist node. A closed checklist is a 409."))
@v1.arguments(ItemUpdateSchema)
@v1.response(200, ChecklistSchema)
def update_check_list_item(body: dict[str, Any], checklist_id: UUID, key: str) -> Checklist:
    return checklists.set_item(principal(), str(checklist_id), key, **body)


@v1.route("/rego/checklists/", methods=["GET"], tags=WORKFLOW_TAG)
@v1.operation("List Checklist")
@v1.arguments(ChecklistListQuerySchema, location="query")
@v1.response(200, ChecklistPageSchema)
def list_checklist(query: dict[str, Any]) -> dict[str, Any]:
    return _page(checklists.list_checklists(principal(), **query))


@v1.route("/rego/checklists/<uuid:checklist_id>/", methods=["GET"], tags=WORKFLOW_TAG)
@v1.operation("Get Checklist", errors=FOUND)
@v1.response(200, ChecklistSchema)
def get_checklist(checklist_id: UUID) -> Checklist:
    return checklists.get_checklist(principal(), str(checklist_id))
