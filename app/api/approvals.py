"""Approvals endpoints under /v1/rego/approvals/: thin handlers over app.services.approvals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import marshmallow as ma
from marshmallow import fields, validate

from app.api import v1
from app.api.auth import principal
from app.api.idempotency import idempotent
from app.api.schemas import ActorId, BaseSchema, IdempotentSchema, IdFilter, ListQuerySchema, page_of
from app.models import ApprovalRequest
from app.services import approvals

FOUND = (400, 401, 403, 404, 422)
DECIDE = (*FOUND, 409)
TAG = ["Approvals"]


# A level naming a role nobody can hold (a typo, a design's own role name) could never be decided:
# the request stayed pending for good. The roles people and API tokens carry, as checklist items.
ROLE = fields.String(validate=validate.OneOf(approvals.STAFF_ROLES))
USER = fields.String(validate=validate.Length(1, 120))


class ApproversSchema(BaseSchema):
    roles = fields.List(ROLE, load_default=list)
    users = fields.List(USER, load_default=list)


class LevelSchema(BaseSchema):
    """A level answers `roles` and `users`; it is sent either the same way (a level read back from
    a request) or with `approvers: {roles, users}` as an approval node's config has it."""

    name = fields.String(validate=validate.Length(1, 80))
    roles = fields.List(ROLE)
    users = fields.List(USER)
    approvers = fields.Nested(ApproversSchema, load_only=True)
    min_approvals = fields.Integer(load_default=1, validate=validate.Range(1, 20))

    @ma.post_load
    def _approvers(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        flat = {key: data.pop(key) for key in ("roles", "users") if key in data}
        if flat and "approvers" in data:
            raise ma.ValidationError("Send roles and users, or approvers, not both.", "approvers")
        if flat:
            data["approvers"] = {"roles": flat.get("roles", []), "users": flat.get("users", [])}
        return data


class DecisionSchema(BaseSchema):
    id = fields.String()
    level = fields.Integer(metadata={"description": "1-based level the decision was made at"})
    level_name = fields.String()
    decision = fields.String(metadata={"description": "approve or reject"})
    actor_kind = fields.String()
    actor_id = fields.String()
    actor_name = fields.String()
    comment = fields.String()
    at = fields.DateTime()


class ApprovalSchema(BaseSchema):
    id = fields.String(required=True)
    company_id = fields.String(required=True)
    resource_type = fields.String(required=True)
    resource_id = fields.String(required=True)
    runner_id = fields.String(allow_none=True)
    flow_id = fields.String(allow_none=True)
    node = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)
    title = fields.String(required=True)
    description = fields.String()
    status = fields.String(required=True, metadata={
        "description": "pending, approved, rejected or withdrawn"})
    levels = fields.List(fields.Nested(LevelSchema))
    current_level = fields.Integer(metadata={"description": "1-based index of the level awaiting a decision"})
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields",
                          metadata={"description": "Store paths shown to deciders"})
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Method("_overdue")
    decided_at = fields.DateTime(allow_none=True)
    version = fields.Integer(metadata={
        "description": "Send it back with a decision to refuse stale decisions"})
    decisions = fields.List(fields.Nested(DecisionSchema))
    created_by = ActorId(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)

    def _overdue(self, request: ApprovalRequest) -> bool:
        return request.is_overdue()


ApprovalPageSchema = page_of(ApprovalSchema, "ApprovalPage")


class ApprovalListQuerySchema(ListQuerySchema):
    status = fields.String(validate=validate.OneOf(["pending", "approved", "rejected", "withdrawn"]))
    flow_id = IdFilter("flow")
    stage = fields.String(validate=validate.Length(1, 80))
    older_than_hours = fields.Float(validate=validate.Range(0, 24 * 366), metadata={
        "description": "Only requests opened at least this many hours ago"})


class MineQuerySchema(BaseSchema):
    flow_id = IdFilter("flow")
    stage = fields.String(validate=validate.Length(1, 80))
    sort = fields.String(load_default="newest", validate=validate.OneOf(["newest", "overdue"]))


class ApprovalListSchema(BaseSchema):
    items = fields.List(fields.Nested(ApprovalSchema), required=True)


class ApprovalCreateSchema(IdempotentSchema):
    resource_type = fields.String(load_default="runner", validate=validate.Length(1, 40))
    resource_id = fields.String(required=True, validate=validate.Length(1, 120))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    levels = fields.List(fields.Nested(LevelSchema), validate=validate.Length(1, 10))
    fields_ = fields.List(fields.String(validate=validate.Length(1, 200)), data_key="fields",
                          load_default=list)
    due_at = fields.AwareDateTime(allow_none=True, load_default=None)


class ApprovalUpdateSchema(BaseSchema):
    title = fields.String(validate=validate.Length(1, 300))
    description = fields.String(validate=validate.Length(max=10_000))
    due_at = fields.AwareDateTime()
    fields_ = fields.List(fields.String(validate=validate.Length(1, 200)), data_key="fields")


class DecideSchema(IdempotentSchema):
    comment = fields.String(load_default="", validate=validate.Length(max=approvals.MAX_COMMENT))
    version = fields.Integer(metadata={"description": "The request version you saw; a stale one is a 409"})


class RejectSchema(DecideSchema):
    comment = fields.String(required=True, validate=validate.Length(1, approvals.MAX_COMMENT))


def _filters(query: dict[str, Any], status: str | None = None) -> approvals.Filters:
    hours = query.pop("older_than_hours", None)
    return approvals.Filters(status=status or query.pop("status", None), flow_id=query.pop("flow_id", None),
                             stage=query.pop("stage", None),
                             older_than=timedelta(hours=hours) if hours else None)


def _page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "continuation_token": page.continuation_token}


@v1.route("/rego/approvals/", methods=["GET"], tags=TAG)
@v1.operation("Approval List")
@v1.arguments(ApprovalListQuerySchema, location="query")
@v1.response(200, ApprovalPageSchema)
def approval_list(query: dict[str, Any]) -> dict[str, Any]:
    filters = _filters(query)
    return _page(approvals.list_approvals(principal(), filters, **query))


@v1.route("/rego/approvals/pending/", methods=["GET"], tags=TAG)
@v1.operation("Pending Approval", description="Every pending request of the company, newest first.")
@v1.arguments(ApprovalListQuerySchema, location="query")
@v1.response(200, ApprovalPageSchema)
def pending_approval(query: dict[str, Any]) -> dict[str, Any]:
    query.pop("status", None)
    filters = _filters(query, status="pending")
    return _page(approvals.list_approvals(principal(), filters, **query))


@v1.route("/rego/approvals/", methods=["POST"], tags=TAG)
@v1.operation("Create Approvals", errors=FOUND, description=(
    "Opens a request on any resource. Approval nodes open theirs by themselves."))
@idempotent
@v1.arguments(ApprovalCreateSchema)
@v1.response(201, ApprovalSchema)
def create_approvals(body: dict[str, Any]) -> ApprovalRequest:
    levels = [{"name": level.get("name"), "approvers": level.get("approvers") or {},
               "min_approvals": level.get("min_approvals", 1)} for level in body.pop("levels", None) or []]
    return approvals.create_approval(principal(), levels=levels or None, fields=body.pop("fields_"), **body)


@v1.route("/rego/approvals/mine/", methods=["GET"], tags=TAG)
@v1.operation("Current user approval list", description=(
    "Pending requests the caller may decide now (roles, named users and maker-checker applied): "
    "one list of at most 200, newest first or (`sort=overdue`) earliest due first; any beyond "
    "those come into it as the first are decided. Pending Approval pages through every one."))
@v1.arguments(MineQuerySchema, location="query")
@v1.response(200, ApprovalListSchema)
def current_user_approval_list(query: dict[str, Any]) -> dict[str, Any]:
    sort = query.pop("sort")
    return {"items": approvals.actionable(principal(), _filters(query), sort=sort)}


@v1.route("/rego/approvals/resource/<string:resource_type>/<string:resource_id>/", methods=["GET"],
          tags=TAG)
@v1.operation("Get approval request by resource", errors=FOUND, description=(
    "The newest request on the resource, e.g. `runner/<runner id>`."))
@v1.response(200, ApprovalSchema)
def get_approval_by_resource(resource_type: str, resource_id: str) -> ApprovalRequest:
    return approvals.get_by_resource(principal(), resource_type, resource_id)


@v1.route("/rego/approvals/<uuid:approval_id>/", methods=["GET"], tags=TAG)
@v1.operation("Get Approval", errors=FOUND)
@v1.response(200, ApprovalSchema)
def get_approval(approval_id: UUID) -> ApprovalRequest:
    return approvals.get_approval(principal(), str(approval_id))


@v1.route("/rego/approvals/<uuid:approval_id>/", methods=["PUT"], tags=TAG)
@v1.operation("Update Approvals", errors=DECIDE, description=(
    "Changes what a pending request shows or when it is due; levels and decisions never change."))
@v1.arguments(ApprovalUpdateSchema)
@v1.response(200, ApprovalSchema)
def update_approvals(body: dict[str, Any], approval_id: UUID) -> ApprovalRequest:
    if "fields_" in body:
        body["fields"] = body.pop("fields_")
    return approvals.update_approval(principal(), str(approval_id), **body)


@v1.route("/rego/approvals/<uuid:approval_id>/approve/", methods=["POST"], tags=TAG)
@v1.operation("Approve approval", errors=DECIDE, description=(
    "Approves the current level; the last level's approval moves the runner on its `approve` edge. "
    "A second decision on the same state is a 409."))
@idempotent
@v1.arguments(DecideSchema, required=False)
@v1.response(200, ApprovalSchema)
def approve_approval(body: dict[str, Any], approval_id: UUID) -> ApprovalRequest:
    return approvals.approve(principal(), str(approval_id), comment=body.get("comment", ""),
                             version=body.get("version"))


@v1.route("/rego/approvals/<uuid:approval_id>/reject/", methods=["POST"], tags=TAG)
@v1.operation("Reject Approval", errors=DECIDE, description=(
    "Rejects the request (a comment is required); the runner takes its `reject` edge."))
@idempotent
@v1.arguments(RejectSchema)
@v1.response(200, ApprovalSchema)
def reject_approval(body: dict[str, Any], approval_id: UUID) -> ApprovalRequest:
    return approvals.reject(principal(), str(approval_id), comment=body["comment"],
                            version=body.get("version"))
