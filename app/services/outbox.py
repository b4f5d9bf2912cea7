"""The runtime's share of engine effects, written in the transition's transaction: work items (the
outbox), execution rows, activity entries, callback tokens and sub-flow notices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import TextClause, bindparam, delete, insert, text

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


# Built once and run with parameters: a statement object memoises its cache key (bench/README.md).
_INSERT_WORK = insert(WorkItem.__table__)
_INSERT_ACTIVITY = insert(ActivityEntry.__table__)


def _add_work(row: Runner, effect_id: str, kind: str, due_at: datetime,
              payload: dict[str, Any] | None = None) -> None:
    db.session.execute(_INSERT_WORK, {
        "id": new_id(), "company_id": row.company_id, "runner_id": row.id, "effect_id": effect_id,
        "kind": kind, "due_at": due_at, "attempts": 0, "payload": payload, "lease_token": None,
        "lease_expires_at": None, "last_error": None})


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
    params = list(rows.values())
    # One row as one execute: the executemany path costs more than it saves for a single row. (A
    # multi-row VALUES statement was slower than executemany, see bench/README.md.)
    db.session.execute(_EXECUTION_UPSERT, params[0] if len(params) == 1 else params)


def _execution_upsert() -> TextClause:
    """The upsert as text with typed parameters, in the syntax SQLite and PostgreSQL share.

    SQLAlchemy's own `on_conflict_do_update` construct has no cache key, so it was compiled
    again on every call (~0.4 ms a transition, see bench/README.md); a text clause is cached.
    """
    columns = Execution.__table__.columns
    names = [column.key for column in columns]
    changes = ", ".join(f"{name} = excluded.{name}" for name in EXECUTION_CHANGES)
    sql = (f"INSERT INTO {Execution.__tablename__} ({', '.join(names)}) "  # noqa: S608  our names only
           f"VALUES ({', '.join(':' + name for name in names)}) "
           f"ON CONFLICT (id, runner_id) DO UPDATE SET {changes}")
    return text(sql).bindparams(*(bindparam(column.key, type_=column.type) for column in columns))


_EXECUTION_UPSERT = _execution_upsert()


def record_activity(runner: Runner, kind: str, *, actor: Principal | None, node: str | None = None,
                    message: str = "", details: dict[str, Any] | None = None,
                    at: datetime | None = None) -> None:
    """Add an activity row for people to read (no commit). Never pass secrets in `details`."""
    db.session.execute(_INSERT_ACTIVITY, {
        "id": new_id(), "company_id": runner.company_id, "runner_id": runner.id, "at": at or utcnow(),
        "kind": kind, "actor": None if actor is None else f"{actor.name} ({actor.kind})", "node": node,
        "message": message, "details": details or {}})
