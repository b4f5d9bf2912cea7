"""Runner use cases: create, execute, cancel, retry, move to another design version, read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app import engine
from app.engine import effects as fx
from app.executors import dispatch
from app.extensions import db
from app.models import Counter, DesignVersion, Flow, Runner, Store
from app.models.base import new_id
from app.services import errors, runtime
from app.services.audit import Action, record_audit
from app.services.clock import now as utcnow
from app.services.principal import Principal
from app.services.runtime import record_activity

__all__ = ["RunnerOutcome", "cancel_runner", "create_runner", "current_elements", "execute_runner",
           "find_customer_runner", "get_runner", "move_runner_design", "record_activity",
           "retry_runner", "start_runner"]


@dataclass
class RunnerOutcome:
    runner: Runner
    replies: list[fx.Reply] = field(default_factory=list)


def get_runner(actor: Principal, runner_id: str) -> Runner:
    """The runner if `actor` may see it; another tenant's (or customer's) runner is not found.

    Read fresh with its store in one statement, so `runtime.transition(row=...)` re-reads neither."""
    found = runtime.read(runner_id)
    runner = found[0] if found else None
    if runner is None or runner.company_id != actor.company_id:
        raise errors.NotFound("No such runner.")
    if actor.kind == "customer" and runner.customer_id != actor.id:
        raise errors.NotFound("No such runner.")
    return runner


def open_to_customers(flow_id: str) -> bool:
    """An admin opened the flow to customers (Designs -> the flow -> Customer onboarding)."""
    return bool(db.session.scalar(select(Flow.customer_onboarding).where(Flow.id == flow_id)))


def resolve_version(company_id: str, *, flow_id: str | None = None,
                    design_id: str | None = None) -> DesignVersion:
    """A design version of this company: the one named, or the flow's current one."""
    if design_id:
        version = db.session.get(DesignVersion, design_id)
        if version is None or version.company_id != company_id:
            raise errors.NotFound("No such design.")
        return version
    if not flow_id:
        raise errors.ValidationFailed("Name a flow or a design.",
                                      [errors.FieldError("flow_id", "Give flow_id or design_id.")])
    flow = db.session.get(Flow, flow_id) if _looks_like_id(flow_id) else None
    if flow is None:
        flow = db.session.scalar(select(Flow).where(Flow.company_id == company_id, Flow.slug == flow_id))
    if flow is None or flow.company_id != company_id:
        raise errors.NotFound("No such flow.")
    if flow.current_design_id is None:
        raise errors.Conflict(f"Flow '{flow.slug}' has no current design; mark one as current first.")
    version = db.session.get(DesignVersion, flow.current_design_id)
    assert version is not None  # noqa: S101  foreign key
    return version


def _looks_like_id(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


def next_ref_id(company_id: str, now: datetime) -> str:
    """RUNNER-YYMM-N: N counts this company's runners of the month, atomically."""
    period = now.strftime("%y%m")
    name = f"runner:{period}"
    for _ in range(3):
        value = db.session.execute(
            update(Counter).where(Counter.company_id == company_id, Counter.name == name)
            .values(value=Counter.value + 1).returning(Counter.value)).scalar()
        if value is not None:
            return f"RUNNER-{period}-{value}"
        try:
            with db.session.begin_nested():
                db.session.execute(insert(Counter).values(company_id=company_id, name=name, value=1))
            return f"RUNNER-{period}-1"
        except IntegrityError:
            continue  # another request created the counter first; increment it instead
    raise errors.Conflict("Could not allocate a runner reference; try again.")


def create_runner(actor: Principal, *, flow_id: str | None = None, design_id: str | None = None,
                  data: Any = None, customer_id: str | None = None, action: str | None = None,
                  ) -> RunnerOutcome:
    """Start a runner of the flow's current design (or `design_id`) and run it until it waits.

    With `action`, the action is submitted with `data` too ("Create and Execute Runner"); when the
    runner can take it straight away both happen in one commit, so a refused action creates nothing.
    """
    if actor.kind == "customer":
        if customer_id != actor.id:
            raise errors.PermissionDenied("Customers start runners only for themselves.")
    else:
        _require_operator(actor)
    version = resolve_version(actor.company_id, flow_id=flow_id, design_id=design_id)
    if actor.kind == "customer" and not open_to_customers(version.flow_id):
        raise errors.NotFound("No such flow.")  # a staff-only flow is not there for customers
    return start_runner(actor, version, data=data, customer_id=customer_id, action=action)


def start_runner(actor: Principal, version: DesignVersion, *, data: Any = None,
                 customer_id: str | None = None, action: str | None = None,
                 parent: tuple[str, str] | None = None,
                 act_as: Principal | None = None) -> RunnerOutcome:
    """Create and start a runner of `version`. `act_as` submits `action` on someone's behalf (an
    integration creating a customer's application submits its first step as that customer)."""
    try:
        design = runtime.compiled_design(version)
    except engine.DesignError as error:
        raise errors.Conflict("This design version does not validate; fix it before starting "
                              "runners.") from error
    now, runner_id = utcnow(), new_id()
    state = engine.new_state(runner_id, design.key)
    try:
        _, effects = engine.advance(design, state, engine.Started(data, runtime.engine_actor(actor)),
                                    clock=utcnow, env=runtime.engine_env())
        if action and state.status is engine.Status.WAITING:
            _, more = engine.execute(design, state, action, data, runtime.engine_actor(act_as or actor),
                                     clock=utcnow, env=runtime.engine_env())
            effects += more
            action = None
    except engine.EngineError as error:
        raise runtime.translate(error) from error
    store = Store(id=new_id(), company_id=version.company_id, data=state.store)
    row = Runner(id=runner_id, company_id=version.company_id, ref_id=next_ref_id(version.company_id, now),
                 flow_id=version.flow_id, design_id=version.id, store_id=store.id,
                 customer_id=customer_id, created_by=actor.id, updated_by=actor.id,
                 parent_runner_id=parent[0] if parent else None,
                 parent_effect_id=parent[1] if parent else None)
    step = runtime.Transition(row=row, design=design, state=state, store=store, seen_version=1,
                              effects=effects)
    runtime.persist(step, actor=actor, new=True, activity=lambda s: record_activity(
        row, "runner.created", actor=actor, message=f"Runner {row.ref_id} created.", at=now))
    if step.to_dispatch():
        dispatch(*step.to_dispatch())
        db.session.refresh(row)
    if action:
        return execute_runner(act_as or actor, runner_id, action=action, data=data)
    return RunnerOutcome(row, [e for e in effects if isinstance(e, fx.Reply)])


def execute_runner(actor: Principal, runner_id: str, *, action: str, data: Any = None,
                   node: str | None = None, as_system: bool = False) -> RunnerOutcome:
    """Submit `action` at a waiting node, then run automatic nodes until the runner waits or ends.

    `as_system` is for trusted services (approvals, checklists) acting for `actor`: node
    permissions are theirs to check, and the activity still names `actor`.
    """
    runner = get_runner(actor, runner_id)
    who = engine.SYSTEM if as_system else runtime.engine_actor(actor)
    event = engine.ActionSubmitted(action, data, who, node)

    def note(step: runtime.Transition) -> None:
        record_activity(step.row, "runner.action", actor=actor, node=node or _first(step),
                        message=f"{actor.name} submitted '{action}'.", details={"action": action})

    step = runtime.transition(runner.id, event, actor=actor, activity=note, row=runner)
    if step.to_dispatch():
        dispatch(*step.to_dispatch())
        db.session.refresh(step.row)
    return RunnerOutcome(step.row, [e for e in step.effects if isinstance(e, fx.Reply)])


def _first(step: runtime.Transition) -> str | None:
    return step.row.current_nodes[0] if step.row.current_nodes else None


def cancel_runner(actor: Principal, runner_id: str, *, reason: str = "") -> Runner:
    """Stop a runner for good; its open work is withdrawn."""
    _require_operator(actor)
    runner = get_runner(actor, runner_id)
    event = engine.CancelRequested(runtime.engine_actor(actor), reason or "cancelled")
    step = runtime.transition(runner.id, event, actor=actor, activity=lambda s: (record_activity(
        s.row, "runner.cancel", actor=actor, message=reason or "Cancelled."), record_audit(
        actor, Action.RUNNER_CANCELLED, "runner", s.row.id, {"reason": reason[:200]})))
    return step.row


def retry_runner(actor: Principal, runner_id: str) -> Runner:
    """Re-run a failed runner from its failed node with a fresh round of attempts."""
    _require_operator(actor)
    runner = get_runner(actor, runner_id)
    # The engine's rule (can_retry) in plain words: its own refusal is worded for developers. A
    # runner that ended at a failed end node has an outcome, not a node to run again.
    nothing_to_retry = "This runner has no failed node to run again."
    if not engine.can_retry(engine.load_state(runner.state, store={})):
        raise errors.Conflict(nothing_to_retry)
    try:
        step = runtime.transition(runner.id, engine.RetryRequested(runtime.engine_actor(actor)),
                                  actor=actor, activity=lambda s: (record_activity(
                                      s.row, "runner.retry", actor=actor, message="Retried."), record_audit(
                                      actor, Action.RUNNER_RETRIED, "runner", s.row.id)), row=runner)
    except errors.Conflict as refused:
        if isinstance(refused.__cause__, engine.InvalidState):  # retried or cancelled meanwhile
            raise errors.Conflict(nothing_to_retry) from refused
        raise
    if step.to_dispatch():
        dispatch(*step.to_dispatch())
        db.session.refresh(step.row)
    return step.row


def move_runner_design(actor: Principal, runner_id: str, design_id: str) -> Runner:
    """Pin the runner to another version of its flow; its current nodes must exist there."""
    _require_operator(actor)
    runner = get_runner(actor, runner_id)
    target = resolve_version(actor.company_id, design_id=design_id)
    if target.flow_id != runner.flow_id:
        raise errors.ValidationFailed("That design belongs to another flow.",
                                      [errors.FieldError("design_id", "Pick a version of this flow.")])
    step = runtime.load(runner.id)
    if step.row.status in runtime.FINAL_STATUSES:  # its history belongs to the version it ran on
        db.session.rollback()
        raise errors.Conflict(f"The runner is {step.row.status}: it stays on the version it ran on.")
    try:
        new_design = runtime.compiled_design(target)
    except engine.DesignError as error:
        db.session.rollback()
        raise errors.Conflict(f"Design version {target.version} does not validate; fix it before "
                              "moving runners to it.") from error
    missing = engine.check_migration(step.state, new_design)
    if missing:
        db.session.rollback()
        raise errors.Conflict(f"Design version {target.version} lacks the runner's current "
                              f"node(s): {', '.join(missing)}.")
    engine.migrate(step.state, new_design)
    step.row.design_id = target.id
    result = db.session.execute(
        update(Runner).where(Runner.id == runner.id, Runner.version == step.seen_version)
        .values(design_id=target.id, state=engine.dump_state(step.state, include_store=False),
                version=Runner.version + 1, updated_at=utcnow(), updated_by=actor.id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise errors.Conflict("The runner changed meanwhile; try again.")
    record_activity(runner, "runner.design_moved", actor=actor,
                    message=f"Moved to design version {target.version}.")
    record_audit(actor, Action.RUNNER_DESIGN_MOVED, "runner", runner.id, {"design_id": target.id,
                                                                     "version": target.version})
    db.session.commit()
    db.session.refresh(runner)
    return runner


def find_customer_runner(company_id: str, flow_id: str, customer_id: str) -> Runner | None:
    """The customer's newest unfinished runner of this flow, to resume onboarding."""
    return db.session.scalar(
        select(Runner).where(Runner.company_id == company_id, Runner.flow_id == flow_id,
                             Runner.customer_id == customer_id,
                             Runner.status.in_(("queued", "running", "waiting", "failed")))
        .order_by(Runner.created_at.desc()).limit(1))


def current_elements(runner: Runner) -> list[dict[str, Any]]:
    """The runner's current nodes as seed 000's `element` objects."""
    # The compiled design's document, cached per process: no re-read and re-decode of the design.
    nodes = {n.get("name"): n for n in runtime.design_for(runner.design_id).raw["nodes"]}
    keys = ("name", "type", "stage", "config", "permissions", "edges")
    return [{k: nodes[name].get(k) for k in keys} for name in runner.current_nodes if name in nodes]


OPERATOR_ROLES = ("admin", "credit_officer")  # who may cancel, retry and move runners


def may_operate(actor: Principal) -> bool:
    return actor.kind == "system" or actor.has_role(*OPERATOR_ROLES)


def _require_operator(actor: Principal) -> None:
    if not may_operate(actor):
        raise errors.PermissionDenied("Only admins and credit officers operate runners.")
