"""Flow, Design and Utility endpoints under /v1/rego/: thin handlers over app.services.flows."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

from app.api import v1
from app.api.auth import principal
from app.api.flow_schemas import (
    DesignCreateSchema,
    DesignDuplicateSchema,
    DesignListQuerySchema,
    DesignPageSchema,
    DesignSchema,
    DesignUpdateSchema,
    FlowCreateSchema,
    FlowPageSchema,
    FlowSchema,
    FlowUpdateSchema,
    GraphValidationSchema,
    JsonSchemaSchema,
    SchemaQuerySchema,
)
from app.api.idempotency import idempotent
from app.api.schemas import ListQuerySchema
from app.engine import NODE_TYPES
from app.engine.validation import DESIGN_SCHEMA
from app.models import DesignVersion, Flow
from app.services import flows
from app.services.pagination import Page

FOUND = (400, 401, 403, 404, 422)  # operations on one object: it may not exist (for this caller)
CHANGED = (*FOUND, 409)


def _page(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "continuation_token": page.continuation_token}


# --- Flow -----------------------------------------------------------------------------------------
@v1.route("/rego/flows/", methods=["POST"], tags=["Flow"])
@v1.operation("Create Flow", errors=(400, 401, 403, 409, 422), description=(
    "A name or slug another flow of the company has is a `409` on `name` or `slug`."))
@idempotent
@v1.arguments(FlowCreateSchema)
@v1.response(201, FlowSchema)
def create_flow(body: dict[str, Any]) -> Flow:
    return flows.create_flow(principal(), **body)


@v1.route("/rego/flows/", methods=["GET"], tags=["Flow"])
@v1.operation("List Flows")
@v1.arguments(ListQuerySchema, location="query")
@v1.response(200, FlowPageSchema)
def list_flows(query: dict[str, Any]) -> dict[str, Any]:
    return _page(flows.list_flows(principal(), **query))


@v1.route("/rego/flows/<uuid:flow_id>/", methods=["GET"], tags=["Flow"])
@v1.operation("Get Flow", errors=FOUND)
@v1.response(200, FlowSchema)
def get_flow(flow_id: UUID) -> Flow:
    return flows.get_flow(principal(), str(flow_id))


@v1.route("/rego/flows/<uuid:flow_id>/", methods=["PUT"], tags=["Flow"])
@v1.operation("Update Flow", errors=CHANGED, description=(
    "Fields left out keep their value. A name another flow of the company has is a `409` on `name`."))
@v1.arguments(FlowUpdateSchema)
@v1.response(200, FlowSchema)
def update_flow(body: dict[str, Any], flow_id: UUID) -> Flow:
    return flows.update_flow(principal(), str(flow_id), **body)


# --- Design ---------------------------------------------------------------------------------------
@v1.route("/rego/designs/", methods=["POST"], tags=["Design"])
@v1.operation("Create Design", errors=CHANGED, description=(
    "Saves the next version of the flow's design. Invalid drafts are kept with `is_valid: false`; "
    "a flow's first valid version becomes its current design."))
@idempotent
@v1.arguments(DesignCreateSchema)
@v1.response(201, DesignSchema)
def create_design(body: dict[str, Any]) -> DesignVersion:
    return flows.create_design(principal(), **body)


@v1.route("/rego/designs/", methods=["GET"], tags=["Design"])
@v1.operation("List Designs")
@v1.arguments(DesignListQuerySchema, location="query")
@v1.response(200, DesignPageSchema)
def list_designs(query: dict[str, Any]) -> dict[str, Any]:
    return _page(flows.list_designs(principal(), **query))


@v1.route("/rego/designs/<uuid:design_id>/", methods=["PUT"], tags=["Design"])
@v1.operation("Update Design", errors=CHANGED, description=(
    "Fields left out keep their value. A version that runners use never changes: that is a 409; "
    "duplicate it and edit the copy."))
@v1.arguments(DesignUpdateSchema)
@v1.response(200, DesignSchema)
def update_design(body: dict[str, Any], design_id: UUID) -> DesignVersion:
    return flows.update_design(principal(), str(design_id), **body)


@v1.route("/rego/designs/<uuid:design_id>/", methods=["GET"], tags=["Design"])
@v1.operation("Get Design", errors=FOUND)
@v1.response(200, DesignSchema)
def get_design(design_id: UUID) -> DesignVersion:
    return flows.get_design(principal(), str(design_id))


@v1.route("/rego/designs/<uuid:design_id>/mark-current/", methods=["PUT"], tags=["Design"])
@v1.operation("Mark as Current Design", errors=FOUND, description=(
    "New runners of the flow start on this version. Only a valid design can be current (422)."))
@v1.response(200, DesignSchema)
def mark_current_design(design_id: UUID) -> DesignVersion:
    return flows.mark_current_design(principal(), str(design_id))


@v1.route("/rego/designs/<uuid:design_id>/duplicate/", methods=["POST"], tags=["Design"])
@v1.operation("Duplicate Design", errors=CHANGED, description=(
    "Copies the version into the flow's next version, which may then be edited."))
@idempotent
@v1.arguments(DesignDuplicateSchema, required=False)
@v1.response(201, DesignSchema)
def duplicate_design(body: dict[str, Any], design_id: UUID) -> DesignVersion:
    return flows.duplicate_design(principal(), str(design_id), name=body.get("name"))


@v1.route("/rego/designs/<uuid:design_id>/expanded/", methods=["GET"], tags=["Design"])
@v1.operation("Get Expanded Design", errors=FOUND, description=(
    "Read-only: each subflow node carries its child design under `expanded`, recursively "
    "(`expanded: null` with an `expand_error` when the child is missing or loops back)."))
@v1.response(200, DesignSchema)
def get_expanded_design(design_id: UUID) -> SimpleNamespace:
    actor = principal()
    design = flows.get_design(actor, str(design_id))
    # A detached view: the ORM object itself must not get the expanded document.
    view = SimpleNamespace(**{name: getattr(design, name) for name in DesignSchema().fields})
    view.document = flows.expand_design(actor, design.id)
    return view


@v1.route("/rego/designs/<uuid:design_id>/validate/", methods=["GET"], tags=["Design"])
@v1.operation("Graph Validation", errors=FOUND, description="Every problem the engine finds, located.")
@v1.response(200, GraphValidationSchema)
def graph_validation(design_id: UUID) -> dict[str, Any]:
    problems = flows.validate_design(principal(), str(design_id))
    return {"valid": not problems, "problems": [p.as_dict() for p in problems]}


# --- Utility --------------------------------------------------------------------------------------
@v1.route("/rego/utility/schema/", methods=["GET"], tags=["Utility"])
@v1.operation("Get Schema", errors=FOUND, description=(
    "With `design_id` and `node`: the JSON Schema that node validates submitted data with. With "
    "`node_type`: that type's config schema. With neither: the design format itself."))
@v1.arguments(SchemaQuerySchema, location="query")
@v1.response(200, JsonSchemaSchema)
def get_schema(query: dict[str, Any]) -> dict[str, Any]:
    if "design_id" in query:
        return {"kind": "node_data",
                "schema": flows.node_data_schema(principal(), query["design_id"], query["node"])}
    if "node_type" in query:
        return {"kind": "node_config", "schema": NODE_TYPES[query["node_type"]].schema}
    return {"kind": "design", "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                         **DESIGN_SCHEMA}}
