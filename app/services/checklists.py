"""Checklist templates (CRUD) and runner checklists: open from a node, tick items, complete the node.

Ticks on one checklist are serialised by bumping its `version` first (a row lock on PostgreSQL, the
write lock on SQLite), so when two officers tick the last two items at once the second one sees
the first's tick and exactly one of them completes the node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from app.engine import effects as fx
from app.extensions import db
from app.models import Checklist, ChecklistItem, ChecklistTemplate, DesignVersion, Flow, Runner
from app.models.base import new_id, utcnow
from app.services import pagination
from app.services.approvals import node_of
from app.services.audit import Action, record_audit
from app.services.effect_hooks import EffectContext, on_effect
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.services.runtime import FINAL_STATUSES

OFFICER_ROLES = ("admin", "credit_officer")
STAFF_ROLES = ("admin", "credit_officer", "viewer")
KNOWN_ROLES = frozenset(STAFF_ROLES)
_KEY = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,119}$")


# ---- templates ----------------------------------------------------------------------------------

def clean_items(items: Any) -> list[dict[str, Any]]:
    """Validate template items `[{key?, title, required?, roles?}]`; keys default from titles."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("A checklist needs items.", [FieldError("items", "Give at least one item.")])
    errors: list[FieldError] = []
    cleaned: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            errors.append(FieldError(f"items.{index}", "Must be an object."))
            continue
        title = str(raw.get("title") or raw.get("label") or "").strip()
        key = str(raw.get("key") or re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")).strip()
        roles = raw.get("roles") or []
        if not title:
            errors.append(FieldError(f"items.{index}.title", "Give the item a title."))
        if title and not _KEY.match(key):
            errors.append(FieldError(f"items.{index}.key", "Use lowercase letters, digits, _ . -"))
        if not isinstance(roles, list) or set(map(str, roles)) - KNOWN_ROLES:
            errors.append(FieldError(f"items.{index}.roles",
                                     f"Choose from {', '.join(sorted(KNOWN_ROLES))}."))
            roles = []
        if any(item["key"] == key for item in cleaned):
            errors.append(FieldError(f"items.{index}.key", "Keys must be unique."))
        cleaned.append({"key": key, "title": title[:300], "required": bool(raw.get("required", True)),
                        "roles": sorted(set(map(str, roles)))})
    if errors:
        raise ValidationFailed("Invalid checklist items.", errors)
    return cleaned


def create_template(actor: Principal, *, name: str, items: Any, description: str = "") -> ChecklistTemplate:
    """"Create Checklist Template" (admins)."""
    _require(actor, "admin")
    if not name.strip():
        raise ValidationFailed("Invalid template.", [FieldError("name", "Give the template a name.")])
    template = ChecklistTemplate(company_id=actor.company_id, name=name.strip()[:200],
                                 description=description, items=clean_items(items),
                                 created_by=f"{actor.kind}:{actor.id}")
    db.session.add(template)
    _commit_unique_name()
    return template


def _commit_unique_name() -> None:
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict("A checklist template with that name already exists.") from error


def get_template(actor: Principal, template_id: str) -> ChecklistTemplate:
    _require(actor, *STAFF_ROLES)
    template = db.session.get(ChecklistTemplate, template_id)
    if template is None or template.company_id != actor.company_id:
        raise NotFound("No such checklist template.")
    return template


def list_templates(actor: Principal, *, limit: int = pagination.DEFAULT_LIMIT,
                   continuation_token: str | None = None) -> pagination.Page[ChecklistTemplate]:
    _require(actor, *STAFF_ROLES)
    query = select(ChecklistTemplate).where(ChecklistTemplate.company_id == actor.company_id)
    return pagination.paginate(query, ChecklistTemplate, scope="checklist-templates", limit=limit,
                               continuation_token=continuation_token)


def update_template(actor: Principal, template_id: str, *, name: str | None = None,
                    description: str | None = None, items: Any = None) -> ChecklistTemplate:
    """Change a template; checklists already opened from it keep their own copy of the items."""
    _require(actor, "admin")
    template = get_template(actor, template_id)
    if name is not None:
        if not name.strip():
            raise ValidationFailed("Invalid template.", [FieldError("name", "Cannot be empty.")])
        template.name = name.strip()[:200]
    if description is not None:
        template.description = description
    if items is not None:
        template.items = clean_items(items)
    template.updated_by = f"{actor.kind}:{actor.id}"
    _commit_unique_name()
    return template


def delete_template(actor: Principal, template_id: str) -> None:
    """Delete a template no design can still open a checklist from; otherwise a Conflict naming
    the versions that use it (without it, their checklists would open with one "Done" item)."""
    _require(actor, "admin")
    template = get_template(actor, template_id)
    used = designs_using_template(actor.company_id, template.id)
    if used:
        raise Conflict(f"The template is used by {', '.join(used)}: change those designs to another "
                       "template (and let runners of older versions finish) before deleting it.")
    db.session.delete(template)
    db.session.commit()


def designs_using_template(company_id: str, template_id: str) -> list[str]:
    """"<flow> v<n>" for each version that may still open a checklist from the template: its flow's
    current version, or one whose runners have not finished (a failed one may be retried)."""
    rows = db.session.execute(
        select(DesignVersion.id, DesignVersion.version, DesignVersion.document, Flow.name,
               Flow.current_design_id).join(Flow, Flow.id == DesignVersion.flow_id)
        .where(DesignVersion.company_id == company_id)).all()
    live = set(db.session.scalars(select(Runner.design_id).distinct().where(
        Runner.company_id == company_id, Runner.status.not_in(FINAL_STATUSES))))
    return [f"{flow_name} v{version}" for design_id, version, document, flow_name, current in rows
            if (design_id == current or design_id in live) and template_id in template_ids(document)]


def template_ids(document: Mapping[str, Any]) -> set[str]:
    """The checklist templates a design document's checklist nodes name."""
    return {str(node["config"]["template_id"]) for node in document.get("nodes") or []
            if isinstance(node, Mapping) and node.get("type") == "checklist"
            and isinstance(node.get("config"), Mapping) and node["config"].get("template_id")}


# ---- runner checklists --------------------------------------------------------------------------

def _items_for(ctx: EffectContext, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    template_id = config.get("template_id")
    if template_id:
        template = db.session.get(ChecklistTemplate, str(template_id))
        if template is not None and template.company_id == ctx.company_id:
            return [dict(item) for item in template.items]
    return clean_items(config.get("items") or [{"key": "done", "title": "Done"}])


@on_effect(fx.OpenChecklist)
def open_from_effect(ctx: EffectContext, effect: fx.OpenChecklist) -> None:
    """Hook: a checklist node was reached; copy its template (or inline items) onto the runner."""
    config = effect.config or {}
    checklist = Checklist(id=new_id(), company_id=ctx.company_id, runner_id=ctx.runner_id,
                          flow_id=ctx.flow_id, node=effect.node, effect_id=effect.effect_id,
                          # A node without a stage leaves the runner's as it was: the checklist is
                          # at that stage, where "Get checklist at runner stage" looks for it.
                          stage=node_of(ctx.design_id, effect.node).get("stage") or ctx.stage,
                          template_id=str(config["template_id"]) if config.get("template_id") else None,
                          title=str(config.get("title") or effect.node)[:300], created_at=ctx.now)
    db.session.add(checklist)
    for position, item in enumerate(_items_for(ctx, config)):
        db.session.add(ChecklistItem(company_id=ctx.company_id, checklist_id=checklist.id, key=item["key"],
                                     title=item["title"], required=item["required"],
                                     roles=item.get("roles") or [], position=position))


@on_effect(fx.Withdraw)
def withdraw_for_effect(ctx: EffectContext, effect: fx.Withdraw) -> None:
    """Hook: the runner left the node. An open checklist is withdrawn; a completed one (whose
    `complete` is what left the node) stays completed."""
    if effect.kind == "checklist":
        db.session.execute(update(Checklist).where(
            Checklist.runner_id == ctx.runner_id, Checklist.effect_id == effect.effect_id,
            Checklist.status == "open").values(status="withdrawn", updated_at=ctx.now))


def get_checklist(actor: Principal, checklist_id: str) -> Checklist:
    _require(actor, *STAFF_ROLES)
    checklist = db.session.get(Checklist, checklist_id)
    if checklist is None or checklist.company_id != actor.company_id:
        raise NotFound("No such checklist.")
    return checklist


def _scoped(actor: Principal, runner_id: str | None = None, status: str | None = None) -> Select[Any]:
    query = select(Checklist).where(Checklist.company_id == actor.company_id)
    if runner_id:
        query = query.where(Checklist.runner_id == runner_id)
    if status:
        query = query.where(Checklist.status == status)
    return query


def list_checklists(actor: Principal, *, runner_id: str | None = None, status: str | None = None,
                    limit: int = pagination.DEFAULT_LIMIT,
                    continuation_token: str | None = None) -> pagination.Page[Checklist]:
    _require(actor, *STAFF_ROLES)
    return pagination.paginate(_scoped(actor, runner_id, status), Checklist, scope="checklists",
                               limit=limit, continuation_token=continuation_token)


def checklist_at_stage(actor: Principal, runner_id: str, stage: str | None = None) -> Checklist:
    """The runner's newest checklist at `stage` (default: the runner's current stage)."""
    _require(actor, *STAFF_ROLES)
    runner = db.session.get(Runner, runner_id)
    if runner is None or runner.company_id != actor.company_id:
        raise NotFound("No such runner.")
    stage = stage or runner.stage
    found = db.session.scalar(_scoped(actor, runner_id).where(Checklist.stage == stage)
                              .order_by(Checklist.created_at.desc()).limit(1))
    if found is None:
        raise NotFound("The runner has no checklist at that stage.")
    return found


def open_tasks(actor: Principal, *, flow_id: str | None = None, stage: str | None = None,
               older_than: timedelta | None = None, limit: int = 200) -> list[Checklist]:
    """Open checklists with an undone required item `actor` may tick (the inbox's tasks); the
    inbox's filters as for approvals (`older_than`: opened at least that long ago)."""
    if actor.kind not in ("staff", "api") or not actor.has_role(*OFFICER_ROLES):
        return []
    query = _scoped(actor, status="open")
    if flow_id:
        query = query.where(Checklist.flow_id == flow_id)
    if stage:
        query = query.where(Checklist.stage == stage)
    if older_than is not None:
        query = query.where(Checklist.created_at <= utcnow() - older_than)
    rows = db.session.scalars(query.order_by(Checklist.created_at.desc()).limit(limit))
    return [c for c in rows if any(i.required and not i.done and may_tick(actor, i) for i in c.items)]


def may_tick(actor: Principal, item: ChecklistItem) -> bool:
    return bool(actor.roles & set(item.roles or OFFICER_ROLES))


def set_item(actor: Principal, checklist_id: str, key: str, *, done: bool, note: str = "") -> Checklist:
    """Tick or untick one item ("Update Check List Item"); completes the node when all required are done."""
    _require(actor, *OFFICER_ROLES)
    checklist = get_checklist(actor, checklist_id)
    item = next((i for i in checklist.items if i.key == key), None)
    if item is None:
        raise NotFound("No such checklist item.")
    if not may_tick(actor, item):
        raise PermissionDenied(f"Only {', '.join(item.roles)} may tick “{item.title}”.")
    locked = db.session.execute(
        update(Checklist).where(Checklist.id == checklist.id, Checklist.status == "open")
        .values(version=Checklist.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        db.session.rollback()
        raise Conflict("This checklist is closed; it can no longer change.")
    now = utcnow()
    db.session.execute(update(ChecklistItem).where(ChecklistItem.id == item.id).values(
        done=done, done_by=f"{actor.kind}:{actor.id}" if done else None,
        done_by_name=actor.name if done else None, done_at=now if done else None, note=note[:2000])
        .execution_options(synchronize_session=False))
    # Re-read after taking the lock: a tick committed meanwhile by someone else counts.
    remaining = db.session.scalar(select(ChecklistItem.id).where(
        ChecklistItem.checklist_id == checklist.id, ChecklistItem.required.is_(True),
        ChecklistItem.done.is_(False)).limit(1))
    complete = remaining is None
    if complete:
        db.session.execute(update(Checklist).where(Checklist.id == checklist.id)
                           .values(status="completed", completed_at=now)
                           .execution_options(synchronize_session=False))
    runner = db.session.get(Runner, checklist.runner_id)
    if runner is not None:
        from app.services.runners import record_activity

        record_activity(runner, "checklist.item", actor=actor, node=checklist.node, at=now,
                        message=f"{actor.name} {'ticked' if done else 'unticked'} “{item.title}”.",
                        details={"checklist_id": checklist.id, "item": key, "done": done})
    record_audit(actor, Action.CHECKLIST_ITEM_TICKED if done else Action.CHECKLIST_ITEM_UNTICKED, "checklist",
                 checklist.id, {"item": key, "runner_id": checklist.runner_id})
    db.session.commit()
    if complete:
        _complete_node(actor, checklist)
    db.session.expire_all()
    return get_checklist(actor, checklist_id)


def _complete_node(actor: Principal, checklist: Checklist) -> None:
    """Submit `complete` at the node; a runner that moved on keeps the completed checklist."""
    from app.services.runners import execute_runner

    items = {i.key: i.done for i in db.session.scalars(
        select(ChecklistItem).where(ChecklistItem.checklist_id == checklist.id))}
    try:
        execute_runner(actor, checklist.runner_id, action="complete", node=checklist.node,
                       data={"checklist_id": checklist.id, "items": items}, as_system=True)
    except (Conflict, ValidationFailed, NotFound):
        db.session.rollback()


def _require(actor: Principal, *roles: str) -> None:
    if actor.kind == "system":
        return
    if actor.kind not in ("staff", "api") or not actor.has_role(*roles):
        raise PermissionDenied(f"This needs one of the roles: {', '.join(roles)}.")
