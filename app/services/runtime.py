"""The durable runner runtime: load a runner, apply one engine event, persist the result atomically.

Every transition is optimistic: the runner row is written `WHERE version = <version read>`, so of two
concurrent transitions exactly one wins; the loser re-reads and re-applies its event, and the engine
then refuses it if it no longer fits (e.g. the node was already submitted), which surfaces as a
Conflict. Effects that need I/O become WorkItem rows inside the same transaction (an outbox), and a
result is recorded in the transaction that deletes its work item under the item's lease.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import engine
from app.engine import effects as fx
from app.extensions import db
from app.models import DesignVersion, Flow, Runner, Store, WorkItem
from app.services import errors, outbox
from app.services.clock import now as utcnow
from app.services.effect_hooks import EffectContext, run_hooks
from app.services.outbox import record_activity  # noqa: F401  re-exported for features
from app.services.principal import Principal

log = logging.getLogger(__name__)

MAX_OPTIMISTIC_TRIES = 5
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
    design: engine.Design
    state: engine.RunnerState
    store: Store
    seen_version: int
    effects: list[Any] = field(default_factory=list)
    added_work: bool = False  # the transition queued work for this runner: worth dispatching
    woken: list[str] = field(default_factory=list)  # other runners it queued work for (a parent)

    def to_dispatch(self) -> list[str]:
        return ([self.row.id] if self.added_work else []) + self.woken


# Compiled designs by design row id. Safe to keep for the process's life: a version that has runners
# can no longer change (flows.update_design refuses), and only runners' versions are looked up here.
_DESIGNS: OrderedDict[str, engine.Design] = OrderedDict()
_DESIGNS_MAX = 512


def design_for(design_id: str) -> engine.Design:
    design = _DESIGNS.get(design_id)
    if design is None:
        version = db.session.get(DesignVersion, design_id)
        assert version is not None  # noqa: S101  runners.design_id is a foreign key
        design = compiled_design(version)
        _DESIGNS[design_id] = design
        while len(_DESIGNS) > _DESIGNS_MAX:
            _DESIGNS.popitem(last=False)
    return design


# The hot path's statements are built once: a statement object memoises its cache key, so running
# it again skips building and hashing its tree (~10% of a transition; see bench/README.md).
_RUNNERS, _STORES = Runner.__table__, Store.__table__
_VERSIONS, _FLOWS = DesignVersion.__table__, Flow.__table__
# The runner, its store and the three small columns an answer about it shows (flow tags, design and
# flow descriptions) in one statement: the design's document, the big part, comes from `design_for`.
_READ = (select(Runner, Store, _FLOWS.c.tags, _VERSIONS.c.description, _FLOWS.c.description)
         .join(Store, Store.id == Runner.store_id)
         .join(_VERSIONS, _VERSIONS.c.id == Runner.design_id)
         .outerjoin(_FLOWS, _FLOWS.c.id == _VERSIONS.c.flow_id)
         .where(Runner.id == bindparam("runner_id")))
# SET gets the version increment here and every other column from the parameters' keys.
_UPDATE_RUNNER = (update(_RUNNERS).where(_RUNNERS.c.id == bindparam("b_id"),
                                         _RUNNERS.c.version == bindparam("b_seen"))
                  .values(version=_RUNNERS.c.version + 1))
_UPDATE_STORE = (update(_STORES).where(_STORES.c.id == bindparam("b_id"))
                 .values(version=_STORES.c.version + 1))
_STORE_KEY = "flowdesk.store"
SUMMARY_KEY = "flowdesk.flow_summary"
_WORK = WorkItem.__table__
_DELETE_WORK = delete(_WORK).where(_WORK.c.id == bindparam("b_id"),
                                   _WORK.c.lease_token == bindparam("b_token"))


def read(runner_id: str) -> tuple[Runner, Store] | None:
    """The runner and its store in one statement, refreshed from the database (not the session).

    The row keeps its flow summary (tags, description) under `SUMMARY_KEY` in its `info`, for
    answers that show it without another statement."""
    found = db.session.execute(_READ, {"runner_id": runner_id},
                               execution_options={"populate_existing": True}).first()
    if found is None:
        return None
    runner, store, tags, design_description, flow_description = found
    info = inspect(runner).info
    # The session holds unchanged objects weakly: keep the store alive for `load(row=...)`.
    info[_STORE_KEY] = store
    info[SUMMARY_KEY] = (list(tags or []), design_description or flow_description or "")
    return runner, store


def load(runner_id: str, *, row: Runner | None = None) -> Transition:
    """Read a runner for a transition. `row` may be passed when `read` fetched it in this
    transaction: its store came with it and is taken from the session, not re-read."""
    store: Store | None
    if row is None:
        found = read(runner_id)
        if found is None:
            raise errors.NotFound("No such runner.")
        row, store = found
    else:
        store = inspect(row).info.pop(_STORE_KEY, None) or db.session.get(Store, row.store_id)
    assert store is not None  # noqa: S101  foreign key
    data = store.data or {}
    return Transition(row=row, design=design_for(row.design_id),
                      state=engine.load_state(row.state, store=data), store=store,
                      seen_version=row.version)


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
               activity: Callable[[Transition], None] | None = None,
               row: Runner | None = None) -> Transition:
    """Apply `event` to the runner and commit, retrying on a concurrent change.

    `work` is (work item id, lease token) when the event is a work item's result: the item is
    deleted in the same commit, fenced by its lease. Raises domain errors; nothing is written then.
    """
    for _ in range(MAX_OPTIMISTIC_TRIES):
        step = load(runner_id, row=row)
        row = None  # a retry must re-read
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
    row, now = step.row, utcnow()
    values = runner_values(step, now)
    if new:
        _write_runner(step, values, now, new=True)  # the flush fills in the column defaults
    # Keep the row usable after the commit without re-reading it: the commit expires every loaded
    # attribute, and we know exactly what is written. Worked out before an update, as on SQLite
    # the write lock is held from the first write to the commit.
    written = {column.key: getattr(row, column.key) for column in _RUNNERS.columns}
    written.update(values)
    if not new:
        written.update(version=step.seen_version + 1, updated_at=now)
        _write_runner(step, values, now, new=False)
    if work is not None:
        gone = db.session.execute(_DELETE_WORK, {"b_id": work[0], "b_token": work[1]})
        if gone.rowcount != 1:  # type: ignore[attr-defined]  a DML statement's CursorResult
            raise StaleWrite
    ctx = EffectContext(company_id=row.company_id, runner_id=row.id, flow_id=row.flow_id,
                        design_id=row.design_id, now=now, actor=actor, store=step.state.store,
                        stage=values.get("stage"))
    records: list[engine.ExecutionRecord] = []  # consecutive ones go to the database as one batch
    for effect in step.effects:
        if isinstance(effect, fx.WriteExecution):
            records.append(effect.record)
        else:
            outbox.upsert_executions(row, records)
            records.clear()
            outbox.apply_effect(step, effect, ctx)
        run_hooks(ctx, effect)
    outbox.upsert_executions(row, records)
    if activity is not None:
        activity(step)
    db.session.commit()
    for key, value in written.items():
        set_committed_value(row, key, value)


def _write_runner(step: Transition, values: dict[str, Any], now: datetime, *, new: bool) -> None:
    """Insert a new runner, or update one fenced by the version it was read at."""
    row, state = step.row, step.state
    if new:
        db.session.add(step.store)
        db.session.flush()  # the runner row references the store
        db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.flush()
        return
    # Only the columns that changed (state always does): SQLite rewrites an index entry for every
    # indexed column in the SET list, changed or not, and `status` is indexed.
    changed = {key: value for key, value in values.items()
               if key == "state" or value != getattr(row, key)}
    result = db.session.execute(_UPDATE_RUNNER, {**changed, "updated_at": now, "b_id": row.id,
                                                 "b_seen": step.seen_version})
    if result.rowcount != 1:  # type: ignore[attr-defined]  a DML statement's CursorResult
        raise StaleWrite
    if state.store_changed:
        db.session.execute(_UPDATE_STORE, {"data": state.store, "updated_at": now,
                                           "b_id": step.store.id})


def runner_values(step: Transition, now: datetime) -> dict[str, Any]:
    state, design = step.state, step.design
    current = state.current_nodes
    stage = next((design.nodes[name].stage for name in current if design.nodes[name].stage),
                 step.row.stage)
    if not current:  # it ended: at an end node, that node's stage (e.g. "Decision") is where it stands
        ended_at = next((e.node for e in step.effects if isinstance(e, fx.Finished) and e.node), None)
        if ended_at is not None and design.nodes[ended_at].stage:
            stage = design.nodes[ended_at].stage
    status = state.status.value
    return {
        "state": engine.dump_state(state, include_store=False),
        "status": status,
        "status_reason": state.error,
        "stage": stage,
        "current_nodes": current,
        "finished_at": now if status in FINAL_STATUSES else None,
    }


def _still_leased(work: tuple[str, str]) -> bool:
    item = db.session.get(WorkItem, work[0], populate_existing=True)
    return item is not None and item.lease_token == work[1]
