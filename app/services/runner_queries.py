"""Reading runners: filtered lists, their views with executions, activity, and public flow info."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, inspect, or_, select

from app.engine import RunnerState, Status, can_retry, load_state, permitted_actions
from app.extensions import db
from app.models import ActivityEntry, Customer, DesignVersion, Execution, Flow, Runner, Store
from app.models.approval import ApprovalRequest
from app.models.checklist import Checklist
from app.services import errors, runners, runtime, templates
from app.services.customers import normalise_mobile
from app.services.pagination import DEFAULT_LIMIT, Page, paginate
from app.services.principal import Principal

READER_KINDS = ("staff", "api", "system")


@dataclass(frozen=True)
class RunnerFilter:
    """What a list narrows to; None fields do not filter."""

    flow_id: str | None = None
    design_id: str | None = None
    status: str | None = None
    stage: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None  # a ref_id, or a customer's mobile or email


def _require_reader(actor: Principal) -> None:
    if actor.kind not in READER_KINDS:
        raise errors.PermissionDenied("Only staff and API clients list runners.")


def _search(q: str) -> Any:
    text = q.strip()
    matches = [Runner.ref_id == text.upper(), Customer.email == text.lower()]
    with contextlib.suppress(errors.ValidationFailed):  # not a phone number: ref_id or email only
        matches.append(Customer.mobile == normalise_mobile(text))
    return or_(*matches)


def list_runners(actor: Principal, where: RunnerFilter | None = None, *, limit: int = DEFAULT_LIMIT,
                 continuation_token: str | None = None) -> Page[Runner]:
    """The company's runners matching `where`, newest first, one keyset page at a time."""
    _require_reader(actor)
    where = where or RunnerFilter()
    statement = select(Runner).where(Runner.company_id == actor.company_id)
    for column, value in ((Runner.flow_id, where.flow_id), (Runner.design_id, where.design_id),
                          (Runner.status, where.status), (Runner.stage, where.stage)):
        if value is not None:
            statement = statement.where(column == value)
    if where.created_after is not None:
        statement = statement.where(Runner.created_at >= where.created_after)
    if where.created_before is not None:
        statement = statement.where(Runner.created_at < where.created_before)
    if where.q:
        statement = statement.outerjoin(Customer, Customer.id == Runner.customer_id).where(_search(where.q))
    return paginate(statement, Runner, scope="runners", limit=limit, continuation_token=continuation_token)


# Rows of the few columns shown, not ORM objects: a long-lived runner has thousands of visits.
_X = Execution.__table__
_EXECUTIONS = (select(_X.c.node, _X.c.attempt, _X.c.status, _X.c.error, _X.c.actor, _X.c.action,
                      _X.c.started_at, _X.c.finished_at)
               .where(_X.c.runner_id == bindparam("runner_id"))
               .order_by(_X.c.started_at, _X.c.id))


def _step(row: Any) -> dict[str, Any]:
    duration = None
    if row.finished_at is not None:
        duration = max(0, int((row.finished_at - row.started_at).total_seconds() * 1000))
    return {"node": row.node, "attempt": row.attempt, "status": row.status, "error": row.error,
            "duration_ms": duration, "actor": row.actor, "action": row.action,
            "started_at": row.started_at, "finished_at": row.finished_at}


def executions(runner: Runner) -> list[dict[str, Any]]:
    """Every node visit (one per attempt), oldest first, with its duration in milliseconds."""
    return [_step(row) for row in db.session.execute(_EXECUTIONS, {"runner_id": runner.id})]


def runner_view(runner: Runner, *, detail: bool = True) -> dict[str, Any]:
    """A runner in seed 001's shape (plus status, stage, current nodes); `detail` adds params,
    visited nodes, store info and executions, which cost queries a list should not pay per row."""
    view: dict[str, Any] = {
        name: getattr(runner, name) for name in (
            "id", "company_id", "ref_id", "flow_id", "design_id", "store_id", "parent_runner_id",
            "status", "status_reason", "stage", "current_nodes", "created_by", "updated_by",
            "created_at", "updated_at", "finished_at")}
    view["current_node"] = runner.current_nodes[0] if runner.current_nodes else None
    view["primary_user_id"] = runner.customer_id
    if detail:
        steps = executions(runner)
        visited: list[str] = []
        for step in steps:
            if step["node"] not in visited:
                visited.append(step["node"])
        store = db.session.get(Store, runner.store_id)
        view.update(params=templates.runner_params(runner), visited_nodes=visited, executions=steps,
                    store_info={"version": store.version if store else None,
                                "updated_at": store.updated_at if store else None})
    return view


def get_runner_view(actor: Principal, runner_id: str) -> dict[str, Any]:
    """The runner's detailed view; a customer (reading their own) gets no params or step log,
    which describe the lender's integrations rather than the application."""
    view = runner_view(runners.get_runner(actor, runner_id))
    if actor.kind == "customer":
        view.update(params=None, executions=[])
    return view


def list_activity(actor: Principal, runner_id: str, *, limit: int = DEFAULT_LIMIT,
                  continuation_token: str | None = None) -> Page[ActivityEntry]:
    """The runner's activity, newest first, keyset-paged on (at, id)."""
    _require_reader(actor)
    runner = runners.get_runner(actor, runner_id)
    statement = select(ActivityEntry).where(ActivityEntry.runner_id == runner.id,
                                            ActivityEntry.company_id == actor.company_id)
    return paginate(statement, scope=f"activity:{runner.id}", limit=limit,
                    continuation_token=continuation_token, keys=(ActivityEntry.at, ActivityEntry.id))


# Three small columns in one statement, built once (it memoises its cache key): Execute Runner's
# answer needs no more of the flow and design rows, and the design's document is the big part.
# Core columns, not ORM attributes: rows come back without the ORM's result set-up.
_R, _D, _F = Runner.__table__, DesignVersion.__table__, Flow.__table__
_FLOW_SUMMARY = (select(_F.c.tags, _F.c.description, _D.c.description)
                 .select_from(_R).join(_D, _D.c.id == _R.c.design_id)
                 .outerjoin(_F, _F.c.id == _D.c.flow_id)
                 .where(_R.c.id == bindparam("runner_id")))


def flow_summary(runner: Runner) -> tuple[list[str], str]:
    """The runner's flow tags, and its design version's description (else its flow's); no access
    check, so callers show it only with a runner the actor may see. Free when the runner was read
    by `runtime.read` (it came in the same statement)."""
    known = inspect(runner).info.get(runtime.SUMMARY_KEY)
    if known is not None:
        return known
    found = db.session.execute(_FLOW_SUMMARY, {"runner_id": runner.id}).first()
    if found is None:
        return [], ""
    tags, flow_description, design_description = found
    return list(tags or []), design_description or flow_description or ""


def current_nodes(actor: Principal, runner_id: str) -> dict[str, Any]:
    runner = runners.get_runner(actor, runner_id)
    return {"runner_id": runner.id, "status": runner.status, "stage": runner.stage,
            "current_nodes": runners.current_elements(runner)}


def public_flow_info(runner_id: str) -> dict[str, Any]:
    """What a customer-facing page needs to draw the runner's current step, and nothing more.

    No store, no params, no node config but a form's schema, no permissions, no ids but the
    runner's: anyone holding the runner's (unguessable) id may read this. Only a customer's runner
    is customer-facing: staff's own runners (of internal flows too) are not found here.
    """
    runner = db.session.get(Runner, runner_id)
    if runner is None or runner.customer_id is None:
        raise errors.NotFound("No such runner.")
    flow = db.session.get(Flow, runner.flow_id)
    document = runtime.design_for(runner.design_id).raw  # cached per version, not re-read
    nodes = {n.get("name"): n for n in (document.get("nodes") or [])}
    current = []
    for name in runner.current_nodes:
        node = nodes.get(name) or {}
        kind = node.get("type")
        schema = (node.get("config") or {}).get("schema") if kind == "form" else None
        current.append({"name": name, "type": kind, "stage": node.get("stage"),
                        "form_schema": schema if isinstance(schema, dict) else None})
    return {"flow_name": flow.name if flow else None, "runner_id": runner.id, "ref_id": runner.ref_id,
            "status": runner.status, "stage": runner.stage, "current_nodes": current}


# --- for the runner pages -------------------------------------------------------------------------


def list_executions(actor: Principal, runner_id: str, *, limit: int = 50,
                    continuation_token: str | None = None) -> Page[dict[str, Any]]:
    """The runner's node visits newest first, keyset-paged on (started_at, id): a page shows the
    latest ones without reading a long-lived runner's whole history."""
    _require_reader(actor)
    runner = runners.get_runner(actor, runner_id)
    statement = (select(_X.c.id, _X.c.node, _X.c.attempt, _X.c.status, _X.c.error, _X.c.actor,
                        _X.c.action, _X.c.started_at, _X.c.finished_at)
                 .where(_X.c.runner_id == runner.id))
    page = paginate(statement, scope=f"executions:{runner.id}", limit=limit, scalars=False,
                    continuation_token=continuation_token, keys=(_X.c.started_at, _X.c.id))
    return Page([_step(row) for row in page.items], page.continuation_token)


def node_statuses(runner: Runner) -> dict[str, str]:
    """Each visited node's latest execution status; nodes never visited are absent."""
    latest = (select(_X.c.node, func.max(_X.c.started_at).label("at"))
              .where(_X.c.runner_id == runner.id).group_by(_X.c.node).subquery())
    rows = db.session.execute(
        select(_X.c.node, _X.c.status)
        .join(latest, and_(_X.c.node == latest.c.node, _X.c.started_at == latest.c.at))
        .where(_X.c.runner_id == runner.id).order_by(_X.c.id))
    return {node: status for node, status in rows}


def retry_node(runner: Runner) -> str | None:
    """The node a retry would run again, or None when there is none (the engine's `can_retry`): a
    runner that failed at an end node has its outcome, not a node to run again."""
    if runner.status != Status.FAILED:
        return None  # no state to decode
    state = load_state(runner.state, store={})
    return state.failed_node if can_retry(state) else None


def runner_actions(actor: Principal, runner: Runner) -> frozenset[str]:
    """What to offer `actor` on the runner now: "cancel" until it ends, "retry" once it failed at a
    node it can run again. Offering is not deciding: cancel_runner and retry_runner check again."""
    if not runners.may_operate(actor):
        return frozenset()
    offered = set()
    if runner.status not in runtime.FINAL_STATUSES:
        offered.add("cancel")
    if retry_node(runner) is not None:
        offered.add("retry")
    return frozenset(offered)


@dataclass(frozen=True)
class WaitingNode:
    """A current node waiting for someone, as the runner page offers it to operators."""

    name: str
    type: str
    stage: str | None
    title: str | None
    actions: list[str]  # the actions the actor may submit here (the engine's rule), sorted
    takes_actions: bool  # False for timers, callbacks, sub-flows: nothing to submit there
    inbox: str | None = None  # "approval" / "checklist": worked in the inbox, never free-form
    work_id: str | None = None  # the pending approval request or open checklist, when there is one
    accepts: tuple[str, ...] = ()  # every action its edges take, whoever may submit them
    roles: tuple[str, ...] = ()  # the actor's roles, to say why nothing is offered
    service: bool = False  # its service decides it (approvals, checklists, documents): no form here
    due_at: datetime | None = None  # a timer's pending due time (aware UTC): when it moves on by itself
    child: ChildRunner | None = None  # a sub-flow's child runner, when the actor's company has it


@dataclass(frozen=True)
class ChildRunner:
    """A runner a sub-flow node started: what its parent's page links to."""

    id: str
    ref_id: str
    status: str
    node: str | None  # the parent's sub-flow node awaiting it (None for one started otherwise)


def child_runners(actor: Principal, runner: Runner) -> list[ChildRunner]:
    """The runners `runner`'s sub-flow nodes started, oldest first, each with the node awaiting it.
    The children link back with `parent_runner_id`; this is the other way, in one statement."""
    _require_reader(actor)
    if runner.company_id != actor.company_id:
        return []
    effects = {p.effect_id: p.node for p in load_state(runner.state, store={}).pending.values()
               if p.kind == "child"}
    rows = db.session.execute(
        select(Runner.id, Runner.ref_id, Runner.status, Runner.parent_effect_id)
        .where(Runner.company_id == actor.company_id, Runner.parent_runner_id == runner.id)
        .order_by(Runner.created_at, Runner.id))
    # The node is known while the child is awaited (its StartChild effect is still pending): that is
    # when the parent's page links its waiting sub-flow node to it.
    return [ChildRunner(row.id, row.ref_id, row.status, effects.get(row.parent_effect_id or ""))
            for row in rows]


def waiting_nodes(actor: Principal, runner: Runner) -> list[WaitingNode]:
    """The runner's waiting nodes with the actions `actor` may submit at each, for operators (empty
    for anyone else). Offering is not deciding: execute_runner and the engine check again."""
    if not runners.may_operate(actor) or runner.company_id != actor.company_id:
        return []
    state = load_state(runner.state, store={})
    design = runtime.design_for(runner.design_id)
    as_actor = runtime.engine_actor(actor)
    # Read only when a sub-flow waits: most runners have none, and this page is read often.
    children = ({c.node: c for c in child_runners(actor, runner) if c.node}
                if any(p.kind == "child" for p in state.pending.values()) else {})
    found = []
    for slot in state.slots.values():
        node = design.nodes.get(slot.node)
        if slot.status != "waiting" or node is None:
            continue
        kind = node.type.name
        # The engine takes these nodes' actions only from their service: people work approvals and
        # checklists in the inbox; a document step moves on when its files are in.
        inbox = kind if node.type.service_decides and kind in ("approval", "checklist") else None
        title = node.config.get("title")  # as designed: a templated one would show its ${…} raw
        title = title if isinstance(title, str) and "${" not in title else None
        found.append(WaitingNode(node.name, kind, node.stage, title,
                                 permitted_actions(node, as_actor), node.type.accepts_actions, inbox,
                                 _inbox_item(runner, node.name, inbox) if inbox else None,
                                 accepts=tuple(node.actions), roles=tuple(sorted(actor.roles)),
                                 service=node.type.service_decides,
                                 due_at=_timer_due(state, slot.effect_id) if kind == "timer" else None,
                                 child=children.get(node.name) if kind == "subflow" else None))
    return found


def _timer_due(state: RunnerState, effect_id: str | None) -> datetime | None:
    """When the slot's pending timer fires (the engine's `ScheduleTimer.due_at`, kept in the state)."""
    pending = state.pending.get(effect_id or "")
    if pending is None or pending.kind != "timer" or pending.due_at is None:
        return None
    # An `until` timer keeps the offset its template rendered (+05:30); the page says UTC.
    due = pending.due_at
    return due.astimezone(UTC) if due.tzinfo else due.replace(tzinfo=UTC)


def _inbox_item(runner: Runner, node: str, kind: str) -> str | None:
    model, open_status = (ApprovalRequest, "pending") if kind == "approval" else (Checklist, "open")
    return db.session.scalar(select(model.id).where(
        model.company_id == runner.company_id, model.runner_id == runner.id, model.node == node,
        model.status == open_status).order_by(model.created_at.desc()).limit(1))


@dataclass(frozen=True)
class RunnerLabels:
    """What people read beside a runner's ids: its flow's name, design version and customer."""

    flow_name: str
    version: int | None
    customer: str | None


def runner_labels(actor: Principal, items: list[Runner]) -> dict[str, RunnerLabels]:
    """Labels of each runner (of the actor's company), in three statements whatever the count."""
    _require_reader(actor)

    def read(statement: Any, ids: set[str | None]) -> dict[str, Any]:
        wanted = {i for i in ids if i}
        return {row[0]: row[1:] for row in db.session.execute(statement(wanted))} if wanted else {}

    mine = [r for r in items if r.company_id == actor.company_id]
    flow_names = read(lambda ids: select(Flow.id, Flow.name).where(
        Flow.id.in_(ids), Flow.company_id == actor.company_id), {r.flow_id for r in mine})
    versions = read(lambda ids: select(DesignVersion.id, DesignVersion.version).where(
        DesignVersion.id.in_(ids), DesignVersion.company_id == actor.company_id), {r.design_id for r in mine})
    customers = read(lambda ids: select(Customer.id, Customer.name, Customer.email, Customer.mobile).where(
        Customer.id.in_(ids), Customer.company_id == actor.company_id), {r.customer_id for r in mine})
    return {r.id: RunnerLabels(
        flow_name=(flow_names.get(r.flow_id) or ("",))[0],
        version=(versions.get(r.design_id) or (None,))[0],
        customer=next((v for v in customers.get(r.customer_id or "", ()) if v), None))
        for r in mine}


def filter_choices(actor: Principal) -> dict[str, list[Any]]:
    """What a runner list may be narrowed to: the company's flows (id, name), its runners' stages,
    and every status."""
    _require_reader(actor)
    flows = db.session.execute(select(Flow.id, Flow.name).where(Flow.company_id == actor.company_id)
                               .order_by(Flow.name, Flow.id)).all()
    stages = db.session.scalars(select(Runner.stage).where(
        Runner.company_id == actor.company_id, Runner.stage.is_not(None)).distinct().order_by(Runner.stage))
    return {"flows": [(f.id, f.name) for f in flows], "stages": list(stages),
            "statuses": [s.value for s in Status]}
