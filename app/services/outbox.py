"""The runtime's share of engine effects, written in the transition's transaction: work items (the
outbox), execution rows, activity entries, callback tokens and sub-flow notices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import engine
from app.engine import effects as fx
from app.extensions import db
from app.models import ActivityEntry, CallbackToken, Execution, Runner, WorkItem
from app.models.base import new_id
from app.services.clock import now as utcnow
from app.services.effect_hooks import EffectContext
from app.services.principal import Principal

if TYPE_CHECKING:
    from app.services.runtime import Transition

WORK_KINDS: dict[type, str] = {fx.CallHttp: "http", fx.RunCode: "code", fx.StartChild: "child"}


def apply_effect(step: Transition, effect: Any, ctx: EffectContext) -> None:
    """The runtime's own share of an effect: work items, executions, activity, parent notice."""
    row = step.row
    kind = WORK_KINDS.get(type(effect))
    if kind is not None:
        _add_work(row, effect.effect_id, kind, ctx.now)
        step.added_work = True
    elif isinstance(effect, fx.ScheduleTimer):
        _add_work(row, effect.effect_id, effect.purpose, effect.due_at)
        step.added_work = step.added_work or effect.due_at <= ctx.now
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
            step.woken.append(row.parent_runner_id)
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
