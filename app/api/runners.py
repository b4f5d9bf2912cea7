"""Runner endpoints under /v1/rego/runners/: thin handlers over the runner services."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, request

from app.api import v1
from app.api.answers import answer
from app.api.auth import customer_allowed, principal, public
from app.api.conventions import errors_on
from app.api.idempotency import idempotent
from app.api.runner_schemas import (
    ActivityPageSchema,
    CallbackAckSchema,
    CancelSchema,
    CurrentNodesSchema,
    ExecuteResultSchema,
    ExecuteSchema,
    ExecutionPageSchema,
    FlowInfoSchema,
    ParsedTemplateSchema,
    ParseTemplateSchema,
    RunnerCreateExecuteSchema,
    RunnerCreateSchema,
    RunnerDesignSchema,
    RunnerDetailSchema,
    RunnerListQuerySchema,
    RunnerPageSchema,
    StoreDataSchema,
    StoreSchema,
)
from app.api.schemas import ListQuerySchema
from app.models import Store
from app.services import callbacks, runner_queries, runners, stores, templates
from app.services.runner_queries import RunnerFilter
from app.services.runners import RunnerOutcome

FOUND = (400, 401, 403, 404, 422)
# An instance, not the class: webargs builds a schema from a class on every request (its fields
# deep-copied), a measurable share of the hottest endpoint. Loading does not mutate a schema.
EXECUTE_SCHEMA = ExecuteSchema()
CHANGED = (*FOUND, 409)
TAG = ["Runner"]
PREFIX = "/rego/runners"
CALLBACK_HEADERS = [
    {"in": "header", "name": name, "required": True, "schema": {"type": "string"}, "description": text}
    for name, text in (
        ("X-Flowdesk-Event-Id", "Unique per event; a repeat is acknowledged, not applied"),
        ("X-Flowdesk-Timestamp", "Unix seconds; accepted within 5 minutes"),
        ("X-Flowdesk-Signature", "sha256=<hex HMAC-SHA256 of '<event id>.<timestamp>.<raw body>'>"))]


def _page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "continuation_token": page.continuation_token}


def execute_result(outcome: RunnerOutcome) -> dict[str, Any]:
    """Seed 000's Execute Runner answer for a runner after an action (or creation)."""
    runner = outcome.runner
    elements = runners.current_elements(runner)
    tags, description = runner_queries.flow_summary(runner)
    return {
        "id": runner.id, "company_id": runner.company_id, "element": elements[0] if elements else None,
        "tags": tags, "description": description,
        "created_by": runner.created_by, "updated_by": runner.updated_by,
        "created_at": runner.created_at, "updated_at": runner.updated_at,
        "runner": {"id": runner.id, "ref_id": runner.ref_id, "status": runner.status,
                   "status_reason": runner.status_reason, "stage": runner.stage,
                   "current_nodes": list(runner.current_nodes)},
        "replies": [{"node": r.node, "action": r.action, "data": r.data} for r in outcome.replies],
    }


def _store_view(store: Store, runner_id: str | None) -> dict[str, Any]:
    return {"id": store.id, "company_id": store.company_id, "runner_id": runner_id, "data": store.data or {},
            "version": store.version, "created_at": store.created_at, "updated_at": store.updated_at}


def _filter(query: dict[str, Any]) -> RunnerFilter:
    return RunnerFilter(**{name: query.get(name) for name in RunnerFilter.__dataclass_fields__})


# --- create, execute, read ------------------------------------------------------------------------
@v1.route(f"{PREFIX}/", methods=["POST"], tags=TAG)
@v1.operation("Create Runner", errors=CHANGED, description=(
    "Starts a runner on the flow's current design (or `design_id`) and runs it until it waits. "
    "With `action`, also submits it with `data` at the first waiting node."))
@idempotent
@v1.arguments(RunnerCreateSchema)
@v1.response(201, RunnerDetailSchema)
def create_runner(body: dict[str, Any]) -> dict[str, Any]:
    with errors_on("", "data"):
        outcome = runners.create_runner(principal(), **body)
    return runner_queries.runner_view(outcome.runner)


@v1.route(f"{PREFIX}/create-and-execute/", methods=["POST"], tags=TAG)
@v1.operation("Create and Execute Runner", errors=CHANGED, description=(
    "Creates a runner and submits `action` with `data` at its first waiting node; answers like "
    "Execute Runner."))
@idempotent
@v1.arguments(RunnerCreateExecuteSchema)
@v1.response(201, ExecuteResultSchema)
def create_and_execute_runner(body: dict[str, Any]) -> Response:
    with errors_on("", "data"):
        return answer(execute_result(runners.create_runner(principal(), **body)), status=201)


@v1.route(f"{PREFIX}/<uuid:runner_id>/execute/", methods=["POST"], tags=TAG)
@customer_allowed
@v1.operation("Execute Runner", errors=CHANGED, description=(
    "Submits `action` with `data` at the waiting node, runs the automatic nodes after it, and "
    "answers with the node the runner now stands on (`element`, null once it ended)."))
@idempotent
@v1.arguments(EXECUTE_SCHEMA)
@v1.response(200, ExecuteResultSchema)
def execute_runner(body: dict[str, Any], runner_id: UUID) -> Response:
    with errors_on("", "data"):
        outcome = runners.execute_runner(principal(), str(runner_id), action=body["action"],
                                         data=body.get("data"), node=body.get("node"))
    return answer(execute_result(outcome))


@v1.route(f"{PREFIX}/<uuid:runner_id>/", methods=["GET"], tags=TAG)
@customer_allowed
@v1.operation("Get Runner", errors=FOUND, description=(
    "The runner with its status, stage, current nodes, params (secrets masked) and one "
    "`executions` entry per node attempt."))
@v1.response(200, RunnerDetailSchema)
def get_runner(runner_id: UUID) -> Response:
    return answer(runner_queries.get_runner_view(principal(), str(runner_id)))


@v1.route(f"{PREFIX}/", methods=["GET"], tags=TAG)
@v1.operation("List Runners", description="Newest first; filters combine.")
@v1.arguments(RunnerListQuerySchema, location="query")
@v1.response(200, RunnerPageSchema)
def list_runners(query: dict[str, Any]) -> dict[str, Any]:
    page = runner_queries.list_runners(principal(), _filter(query), limit=query["limit"],
                                       continuation_token=query.get("continuation_token"))
    return {"items": [runner_queries.runner_view(r, detail=False) for r in page.items],
            "continuation_token": page.continuation_token}


@v1.route(f"{PREFIX}/<uuid:runner_id>/current-nodes/", methods=["GET"], tags=TAG)
@customer_allowed
@v1.operation("Get Current Nodes", errors=FOUND)
@v1.response(200, CurrentNodesSchema)
def get_current_nodes(runner_id: UUID) -> dict[str, Any]:
    return runner_queries.current_nodes(principal(), str(runner_id))


@v1.route(f"{PREFIX}/<uuid:runner_id>/activity/", methods=["GET"], tags=TAG)
@v1.operation("Runner activity", errors=FOUND, description="What happened to the runner, newest first.")
@v1.arguments(ListQuerySchema, location="query")
@v1.response(200, ActivityPageSchema)
def runner_activity(query: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    return _page(runner_queries.list_activity(principal(), str(runner_id), **query))


@v1.route(f"{PREFIX}/<uuid:runner_id>/executions/", methods=["GET"], tags=TAG)
@v1.operation("Runner executions", errors=FOUND, description=(
    "The runner's node visits (one per attempt), newest first and paged: the way to read a "
    "long-lived runner's history, which Get Runner answers in full."))
@v1.arguments(ListQuerySchema, location="query")
@v1.response(200, ExecutionPageSchema)
def runner_executions(query: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    return _page(runner_queries.list_executions(principal(), str(runner_id), **query))


# --- store, design, template ----------------------------------------------------------------------
@v1.route(f"{PREFIX}/<uuid:runner_id>/store/", methods=["GET"], tags=TAG)
@v1.operation("Runner Store", errors=FOUND)
@v1.response(200, StoreSchema)
def runner_store(runner_id: UUID) -> dict[str, Any]:
    return _store_view(stores.runner_store(principal(), str(runner_id)), str(runner_id))


@v1.route(f"{PREFIX}/<uuid:runner_id>/store/", methods=["PUT"], tags=TAG)
@v1.operation("Update Store", errors=CHANGED, description=(
    "Merges `data` into the runner's store (objects merge key by key, other values replace). "
    "Admins and credit officers; recorded in the activity and the audit log. 409 once the runner "
    "succeeded or was cancelled; a failed runner's store may be fixed before Retry Runner."))
@v1.arguments(StoreDataSchema)
@v1.response(200, StoreSchema)
def update_store(body: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    store = stores.update_runner_store(principal(), str(runner_id), body["data"])
    return _store_view(store, str(runner_id))


@v1.route(f"{PREFIX}/<uuid:runner_id>/design/", methods=["PUT"], tags=TAG)
@v1.operation("Update Runner design", errors=CHANGED, description=(
    "Moves the runner to another version of its flow; that version must have the runner's "
    "current nodes, and the runner must not have succeeded or been cancelled (409 otherwise)."))
@v1.arguments(RunnerDesignSchema)
@v1.response(200, RunnerDetailSchema)
def update_runner_design(body: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    runner = runners.move_runner_design(principal(), str(runner_id), body["design_id"])
    return runner_queries.runner_view(runner)


@v1.route(f"{PREFIX}/<uuid:runner_id>/parse-template/", methods=["POST"], tags=TAG)
@v1.operation("Parse Template", errors=FOUND, description=(
    "Renders `template` against the runner's context (data, store, params, RUNNER_ID, runner, "
    "env). Every value derived from a secret shows as ********; secrets are never read."))
@v1.arguments(ParseTemplateSchema)
@v1.response(200, ParsedTemplateSchema)
def parse_template(body: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    result = templates.parse_template(principal(), str(runner_id), body["template"], data=body.get("data"))
    return {"result": result}


# --- lifecycle ------------------------------------------------------------------------------------
@v1.route(f"{PREFIX}/<uuid:runner_id>/cancel/", methods=["POST"], tags=TAG)
@v1.operation("Cancel Runner", errors=CHANGED,
              description="Stops the runner for good; its open work is withdrawn.")
@v1.arguments(CancelSchema, required=False)
@v1.response(200, RunnerDetailSchema)
def cancel_runner(body: dict[str, Any], runner_id: UUID) -> dict[str, Any]:
    runner = runners.cancel_runner(principal(), str(runner_id), reason=body.get("reason", ""))
    return runner_queries.runner_view(runner)


@v1.route(f"{PREFIX}/<uuid:runner_id>/retry/", methods=["POST"], tags=TAG)
@v1.operation("Retry Runner", errors=CHANGED, description=(
    "Re-runs a failed runner from its failed node with a fresh round of attempts."))
@v1.response(200, RunnerDetailSchema)
def retry_runner(runner_id: UUID) -> dict[str, Any]:
    return runner_queries.runner_view(runners.retry_runner(principal(), str(runner_id)))


# --- public ---------------------------------------------------------------------------------------
@v1.route(f"{PREFIX}/<uuid:runner_id>/flow-info/", methods=["GET"], tags=TAG)
@public
@v1.operation("No Auth Runner Flow info", errors=(400, 404, 422), public=True, description=(
    "Public: what a customer-facing page needs to show a customer's runner's current step (flow "
    "name, reference, status, stage, current nodes with a form's schema). No store, params or "
    "secrets. A runner with no customer is not found here."))
@v1.response(200, FlowInfoSchema)
def runner_flow_info(runner_id: UUID) -> dict[str, Any]:
    return runner_queries.public_flow_info(str(runner_id))


@v1.route(f"{PREFIX}/callback/<token>/", methods=["POST"], tags=TAG)
@public
@v1.operation("Runner Callback Handler", errors=(400, 409, 422), public=True, description=(
    "Public, signed: an outside system answers a `callback` node (docs/runtime.md). Any "
    "signature, timestamp or token failure is the same 401."))
@v1.alt_response(401, response="UNAUTHORIZED")
@v1.doc(parameters=CALLBACK_HEADERS, requestBody={
    "required": False, "content": {"application/json": {"schema": {}}}})
@v1.response(200, CallbackAckSchema)
def runner_callback(token: str) -> dict[str, Any]:
    result = callbacks.receive_callback(
        token, event_id=request.headers.get("X-Flowdesk-Event-Id", ""),
        timestamp=request.headers.get("X-Flowdesk-Timestamp", ""),
        signature=request.headers.get("X-Flowdesk-Signature", ""), body=request.get_data())
    return {"received": True, "duplicate": result.duplicate}

