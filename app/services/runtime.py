"""The durable runner runtime: load a runner, apply one engine event, persist the result atomically.

Every transition is optimistic: the runner row is written `WHERE version = <version read>`, so of two
concurrent transitions exactly one wins; the loser re-reads and re-applies its event, and the engine
then refuses it if it no longer fits (e.g. the node was already submitted), which surfaces as a
Conflict. Effects that need I/O become WorkItem rows inside the same transaction (an outbox), and a
result is recorded in the transaction that deletes its work item under the item's lease.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import engine
from app.engine import effects as fx
from app.extensions import db
from app.models import ActivityEntry, CallbackToken, DesignVersion, Execution, Runner, Store, WorkItem
from app.models.base import new_id
from app.services import errors
from app.services.clock import now as utcnow
from app.services.effect_hooks import EffectContext, run_hooks
from app.services.principal import Principal

log = logging.getLogger(__name__)

MAX_OPTIMISTIC_TRIES = 5
WORK_KINDS: dict[type, str] = {fx.CallHttp: "http", fx.RunCode: "code", fx.StartChild: "child"}
FINAL_STATUSES = frozenset({"succeeded", "cancelled"})


class StaleWrite(Exception):
    """Another transition changed the runner (or took our work item's lease) first."""


def compiled_design(version: DesignVersion) -> engine.Design:
    """The engine's compiled design for a stored version, shared by every runner on it.

    The cache key is our row id plus content checksum, never ids from the document itself: two
    companies may both call their design "loan" version 1.
    """
    doc_id = f"{version.id}:{version.checksum[:16]}"
    return engine.compile_design({**version.document, "id": doc_id, "version": version.version})


def engine_actor(actor: Principal | None) -> engine.Actor:
    if actor is None or actor.kind == "system":
        return engine.SYSTEM
    return engine.Actor(actor.id, actor.kind, actor.roles)


def actor_label(actor: Principal | None) -> str:
    return "system" if actor is None else f"{actor.kind}:{actor.id}"


@dataclass
class Transition:
    """A runner as read for one transition, and what applying an event produced."""

    row: Runner
    version: DesignVersion
    design: engine.Design
    state: engine.RunnerState
    store: Store
    store_before: str
    seen_version: int
    effects: list[Any] = field(default_factory=list)


def load(runner_id: str) -> Transition:
    row = db.session.get(Runner, runner_id, populate_existing=True)
    if row is None:
        raise errors.NotFound("No such runner.")
    version = db.session.get(DesignVersion, row.design_id)
    store = db.session.get(Store, row.store_id, populate_existing=True)
    assert version is not None and store is not None  # noqa: S101  foreign keys guarantee both
    data = store.data or {}
    return Transition(row=row, version=version, design=compiled_design(version),
                      state=engine.load_state(row.state, store=data), store=store,
                      store_before=_fingerprint(data), seen_version=row.version)


def _fingerprint(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def engine_env() -> dict[str, Any]:
    return {"name": current_app.config.get("FLOWDESK_ENV", "development")}


def translate(error: engine.EngineError) -> errors.ServiceError:
    """Engine errors as domain errors (a rule lives once: in the engine)."""
    if isinstance(error, engine.PermissionDenied):
        return errors.PermissionDenied(str(error))
    if isinstance(error, engine.InvalidInput):
        fields = [errors.FieldError(e.get("path", ""), e.get("message", "")) for e in error.errors]
        return errors.ValidationFailed(str(error), fields)
    if isinstance(error, engine.NoMatchingEdge):
        return errors.ValidationFailed(str(error), [errors.FieldError("action", str(error))])
    if isinstance(error, engine.InvalidState):
        return errors.Conflict(str(error))
    return errors.ValidationFailed(str(error))


def transition(runner_id: str, event: Any, *, actor: Principal | None,
               work: tuple[str, str] | None = None,
               activity: Callable[[Transition], None] | None = None) -> Transition:
    """Apply `event` to the runner and commit, retrying on a concurrent change.

    `work` is (work item id, lease token) when the event is a work item's result: the item is
    deleted in the same commit, fenced by its lease. Raises domain errors; nothing is written then.
    """
    for _ in range(MAX_OPTIMISTIC_TRIES):
        step = load(runner_id)
        try:
            _, step.effects = engine.advance(step.design, step.state, event, clock=utcnow,
                                             env=engine_env())
        except engine.EngineError as error:
            db.session.rollback()
            raise translate(error) from error
        try:
            persist(step, actor=actor, work=work, activity=activity)
        except StaleWrite:
            db.session.rollback()
            if work is not None and not _still_leased(work):
                raise errors.Conflict("This work was taken over by another worker.") from None
            continue
        return step
    raise errors.Conflict("The runner is changing too fast; try again.")


def persist(step: Transition, *, actor: Principal | None, work: tuple[str, str] | None = None,
            activity: Callable[[Transition], None] | None = None, new: bool = False) -> None:
    """Write state, store, executions, work items, hooks and activity; one commit."""
    row, state, now = step.row, step.state, utcnow()
    values = runner_values(step, now)
    if new:
        db.session.add(step.store)
        db.session.flush()  # the runner row references the store
        db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.flush()
    else:
        result = db.session.execute(
            update(Runner).where(Runner.id == row.id, Runner.version == step.seen_version)
            .values(**values, version=Runner.version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise StaleWrite
        if _fingerprint(state.store) != step.store_before:
            db.session.execute(update(Store).where(Store.id == step.store.id)
                               .values(data=state.store, version=Store.version + 1, updated_at=now)
                               .execution_options(synchronize_session=False))
    if work is not None:
        gone = db.session.execute(delete(WorkItem).where(WorkItem.id == work[0],
                                                         WorkItem.lease_token == work[1]))
        if gone.rowcount != 1:
            raise StaleWrite
    ctx = EffectContext(company_id=row.company_id, runner_id=row.id, flow_id=row.flow_id,
                        design_id=row.design_id, now=now, actor=actor, store=state.store)
    records: list[engine.ExecutionRecord] = []  # consecutive ones go to the database as one batch
    for effect in step.effects:
        if isinstance(effect, fx.WriteExecution):
            records.append(effect.record)
        else:
            upsert_executions(row, records)
            records.clear()
            apply_effect(step, effect, ctx)
        run_hooks(ctx, effect)
    upsert_executions(row, records)
    if activity is not None:
        activity(step)
    db.session.commit()
    db.session.refresh(row)


def runner_values(step: Transition, now: datetime) -> dict[str, Any]:
    state, design = step.state, step.design
    current = state.current_nodes
    stage = next((design.nodes[name].stage for name in current if design.nodes[name].stage),
                 step.row.stage)
    status = state.status.value
    return {
        "state": engine.dump_state(state, include_store=False),
        "status": status,
        "status_reason": state.error,
        "stage": stage,
        "current_nodes": current,
        "finished_at": now if status in FINAL_STATUSES else None,
    }


def apply_effect(step: Transition, effect: Any, ctx: EffectContext) -> None:
    """The runtime's own share of an effect: work items, executions, activity, parent notice."""
    row = step.row
    kind = WORK_KINDS.get(type(effect))
    if kind is not None:
        _add_work(row, effect.effect_id, kind, ctx.now)
    elif isinstance(effect, fx.ScheduleTimer):
        _add_work(row, effect.effect_id, effect.purpose, effect.due_at)
    elif isinstance(effect, fx.Withdraw):
        db.session.execute(delete(WorkItem).where(WorkItem.runner_id == row.id,
                                                  WorkItem.effect_id == effect.effect_id))
    elif isinstance(effect, fx.WriteExecution):  # persist() batches these; kept for direct callers
        upsert_execution(row, effect.record)
    elif isinstance(effect, fx.Finished):
        record_activity(row, f"runner.{effect.status}", actor=None,
                        message=effect.error or f"Runner {effect.status}.", at=ctx.now)
        if row.parent_runner_id and row.parent_effect_id:
            _notify_parent(row, effect, ctx.now, step.state.store)
    elif isinstance(effect, fx.Notify):
        record_activity(row, "notify", actor=None, node=effect.node, at=ctx.now,
                        message=str(effect.config.get("message") or effect.config.get("subject") or ""))
    elif isinstance(effect, fx.AwaitCallback):
        db.session.merge(CallbackToken(token=effect.token, company_id=row.company_id, runner_id=row.id,
                                       node=effect.node))
        record_activity(row, "callback.awaited", actor=None, node=effect.node, at=ctx.now)
    elif isinstance(effect, fx.OpenApproval | fx.OpenChecklist | fx.RequestDocuments):
        label = {fx.OpenApproval: "approval.opened", fx.OpenChecklist: "checklist.opened",
                 fx.RequestDocuments: "documents.requested"}[type(effect)]
        record_activity(row, label, actor=None, node=effect.node, at=ctx.now)


def _add_work(row: Runner, effect_id: str, kind: str, due_at: datetime,
              payload: dict[str, Any] | None = None) -> None:
    db.session.execute(insert(WorkItem).values(
        id=new_id(), company_id=row.company_id, runner_id=row.id, effect_id=effect_id, kind=kind,
        due_at=due_at, attempts=0, payload=payload))


def _notify_parent(row: Runner, effect: fx.Finished, now: datetime, store: dict[str, Any]) -> None:
    """A sub-flow ended: queue a `child_done` item on the parent, in the child's own commit."""
    payload = {"status": effect.status, "error": effect.error, "result": store}
    parent = db.session.get(Runner, row.parent_runner_id)
    if parent is not None:
        _add_work(parent, f"{row.parent_effect_id}:done", "child_done", now, payload)


def upsert_execution(row: Runner, record: engine.ExecutionRecord) -> None:
    upsert_executions(row, [record])


# What a later write of the same visit changes; the rest (node, input, started_at) is the first write's.
EXECUTION_CHANGES = ("status", "action", "actor", "output", "error", "finished_at", "attempt")
_EXECUTION_UPSERTS: dict[str, Any] = {}


def upsert_executions(row: Runner, records: list[engine.ExecutionRecord]) -> None:
    """Upsert execution records in one executemany, merging repeats of an id as successive upserts
    would (one multi-row upsert may not touch a row twice on PostgreSQL)."""
    if not records:
        return
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        values = {
            "id": record.id, "runner_id": row.id, "company_id": row.company_id, "node": record.node,
            "attempt": record.attempt, "status": record.status, "action": record.action,
            "actor": record.actor, "input": record.input, "output": record.output,
            "error": record.error, "started_at": record.started_at, "finished_at": record.finished_at,
        }
        earlier = rows.get(record.id)
        if earlier is None:
            rows[record.id] = values
        else:
            earlier.update({key: values[key] for key in EXECUTION_CHANGES})
    db.session.execute(_execution_upsert(db.session.get_bind().dialect.name), list(rows.values()))


def _execution_upsert(dialect: str) -> Any:
    """The upsert statement, built once per dialect and executed with parameters. A statement
    built per record with its values inlined missed SQLAlchemy's compiled cache: recompiling it
    cost several ms a node step (see bench/README.md)."""
    statement = _EXECUTION_UPSERTS.get(dialect)
    if statement is None:
        base = (pg_insert if dialect == "postgresql" else sqlite_insert)(Execution.__table__)
        statement = base.on_conflict_do_update(
            index_elements=["id", "runner_id"],
            set_={key: base.excluded[key] for key in EXECUTION_CHANGES})
        _EXECUTION_UPSERTS[dialect] = statement
    return statement


def record_activity(runner: Runner, kind: str, *, actor: Principal | None, node: str | None = None,
                    message: str = "", details: dict[str, Any] | None = None,
                    at: datetime | None = None) -> None:
    """Add an activity row for people to read (no commit). Never pass secrets in `details`."""
    db.session.execute(insert(ActivityEntry).values(
        id=new_id(), company_id=runner.company_id, runner_id=runner.id, at=at or utcnow(), kind=kind,
        actor=None if actor is None else f"{actor.name} ({actor.kind})", node=node, message=message,
        details=details or {}))


def _still_leased(work: tuple[str, str]) -> bool:
    item = db.session.get(WorkItem, work[0], populate_existing=True)
    return item is not None and item.lease_token == work[1]
