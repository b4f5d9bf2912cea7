"""Stores (seed 000's Store): a runner's data, or a standalone one; read, list, create, merge into.

A runner's store is also written by every engine transition. Updating it from outside bumps the
runner's optimistic `version` in the same commit, so a transition that read the store before our
write fails its own version check and re-reads, instead of writing its stale copy over ours.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select, update

from app.engine.run import deep_merge
from app.extensions import db
from app.models import Runner, Store
from app.services import errors, runners, runtime
from app.services.audit import Action, record_audit
from app.services.clock import now as utcnow
from app.services.pagination import DEFAULT_LIMIT, Page, paginate
from app.services.principal import Principal

READER_KINDS = ("staff", "api", "system")
WRITER_ROLES = ("admin", "credit_officer")
MAX_TRIES = 5


def _require_reader(actor: Principal) -> None:
    if actor.kind not in READER_KINDS:
        raise errors.PermissionDenied("Only staff and API clients read stores.")


def _require_writer(actor: Principal) -> None:
    if actor.kind != "system" and (actor.kind not in READER_KINDS or not actor.has_role(*WRITER_ROLES)):
        raise errors.PermissionDenied("Only admins and credit officers change stores.")


def get_store(actor: Principal, store_id: str) -> Store:
    """The store if it is the actor's company's; another company's store is not found."""
    _require_reader(actor)
    store = db.session.scalar(select(Store).where(Store.id == store_id,
                                                  Store.company_id == actor.company_id))
    if store is None:
        raise errors.NotFound("No such store.")
    return store


def list_stores(actor: Principal, *, limit: int = DEFAULT_LIMIT,
                continuation_token: str | None = None) -> Page[Store]:
    """Every store of the company (runners' and standalone), newest first."""
    _require_reader(actor)
    statement = select(Store).where(Store.company_id == actor.company_id)
    return paginate(statement, Store, scope="stores", limit=limit, continuation_token=continuation_token)


def create_store(actor: Principal, *, data: dict[str, Any] | None = None) -> Store:
    """A standalone store, not tied to any runner (e.g. shared reference data)."""
    _require_writer(actor)
    store = Store(company_id=actor.company_id, data=copy.deepcopy(data or {}), version=1)
    db.session.add(store)
    db.session.flush()
    record_audit(actor, Action.STORE_CREATED, "store", store.id, {"fields": sorted(map(str, data or {}))})
    db.session.commit()
    return store


def runner_store(actor: Principal, runner_id: str) -> Store:
    """The store of a runner the actor may read."""
    _require_reader(actor)
    runner = runners.get_runner(actor, runner_id)
    store = db.session.get(Store, runner.store_id)
    assert store is not None  # noqa: S101  foreign key
    return store


def update_runner_store(actor: Principal, runner_id: str, data: dict[str, Any]) -> Store:
    """Deep-merge `data` into the runner's store (objects merge, other values replace), atomically."""
    _require_writer(actor)
    runner = runners.get_runner(actor, runner_id)
    # Top-level names only: values are the customer's data and belong in the store, not in two logs.
    names = sorted(map(str, data))
    for _ in range(MAX_TRIES):
        step = runtime.load(runner.id)
        if step.row.status in runtime.FINAL_STATUSES:  # a failed one may be fixed, then retried
            db.session.rollback()
            raise errors.Conflict(f"The runner is {step.row.status}: its store stays as it ended.")
        merged = deep_merge(copy.deepcopy(step.store.data or {}), copy.deepcopy(data))
        now = utcnow()
        bumped = db.session.execute(
            update(Runner).where(Runner.id == runner.id, Runner.version == step.seen_version)
            .values(version=Runner.version + 1, updated_at=now, updated_by=actor.id)
            .execution_options(synchronize_session=False))
        if bumped.rowcount != 1:
            db.session.rollback()  # a transition won the race: merge into what it wrote
            continue
        db.session.execute(update(Store).where(Store.id == step.store.id)
                           .values(data=merged, version=Store.version + 1, updated_at=now)
                           .execution_options(synchronize_session=False))
        runtime.record_activity(step.row, Action.STORE_UPDATED, actor=actor, message="Store updated.",
                                details={"fields": names}, at=now)
        record_audit(actor, Action.STORE_UPDATED, "store", step.store.id,
                     {"runner_id": runner.id, "fields": names})
        db.session.commit()
        store = db.session.get(Store, step.store.id, populate_existing=True)
        assert store is not None  # noqa: S101  just written
        return store
    raise errors.Conflict("The runner is changing too fast; try again.")


def runner_ids_for_stores(stores: list[Store]) -> dict[str, str]:
    """Store id -> the id of the runner using it, for the stores that belong to a runner."""
    ids = [s.id for s in stores]
    if not ids:
        return {}
    rows = db.session.execute(select(Runner.store_id, Runner.id).where(Runner.store_id.in_(ids)))
    return {store_id: runner_id for store_id, runner_id in rows}


def step_answers(actor: Principal, runner_id: str, node: str) -> dict[str, Any]:
    """What was last sent at one of the runner's current form steps, as that form's own fields:
    a customer who goes Back to a page sees what they typed there, not an empty form.

    Only the step's schema properties under its `store_as` key are returned: the rest of the store
    (scores, officers' notes) stays for staff, which is why customers read no store otherwise.
    """
    runner = runners.get_runner(actor, runner_id)  # a customer's own runner only
    element = next((e for e in runners.current_elements(runner) if e["name"] == node), None)
    config = (element or {}).get("config") or {}
    schema, key = config.get("schema"), config.get("store_as")
    fields = schema.get("properties") if isinstance(schema, dict) else None
    store = db.session.get(Store, runner.store_id)
    kept = (store.data or {}).get(key) if key and store is not None else None
    if not isinstance(kept, dict) or not isinstance(fields, dict):
        return {}
    return {name: kept[name] for name in fields if name in kept}
