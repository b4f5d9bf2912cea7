"""Approval requests: open them from approval nodes, decide them level by level, move the runner.

Rules kept here and nowhere else:
* maker-checker: whoever created the runner or submitted the step that opened the request, and
  whoever approved an earlier level, cannot decide it;
* one decision per state: each decision is written `WHERE version = :seen AND status = 'pending'`,
  so of two concurrent (or repeated) decisions exactly one is recorded, the other is a Conflict;
* a rejection needs a comment;
* the last approval submits `approve` at the node, a rejection `reject`, as a trusted service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update

from app.engine import effects as fx
from app.engine.expressions import ExpressionError, compile_expression
from app.extensions import db
from app.models import ApprovalDecision, ApprovalRequest, DesignVersion, Runner, Store, User
from app.models.base import new_id, utcnow
from app.services import pagination
from app.services.audit import Action, record_audit
from app.services.effect_hooks import EffectContext, on_effect
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

log = logging.getLogger(__name__)

DECIDER_ROLES = frozenset({"admin", "credit_officer"})  # who may decide when a level names no one
STAFF_ROLES = ("admin", "credit_officer", "viewer")
MAX_COMMENT = 4000


# ---- opening ------------------------------------------------------------------------------------

def build_levels(config: Mapping[str, Any], store: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The levels a request needs: `metadata.levels` whose `when` holds, else one from `approvers`.

    A `when` that cannot be evaluated keeps its level: an extra approval is the safe mistake.
    """
    meta = config.get("metadata") if isinstance(config.get("metadata"), Mapping) else {}
    base = {"approvers": config.get("approvers") or {}, "min_approvals": config.get("min_approvals", 1)}
    raw_levels = meta.get("levels") if isinstance(meta.get("levels"), list) else [base]
    levels = []
    for index, item in enumerate(raw_levels, start=1):
        raw = item if isinstance(item, Mapping) else {}
        if not _holds(raw.get("when"), store):
            continue
        approvers = raw.get("approvers") or base["approvers"]
        levels.append({
            "name": str(raw.get("name") or f"L{index}"),
            "roles": [str(r) for r in approvers.get("roles") or []],
            "users": [str(u) for u in approvers.get("users") or []],
            "min_approvals": max(1, int(raw.get("min_approvals") or base["min_approvals"] or 1)),
        })
    return levels or [{"name": "L1", "roles": sorted(DECIDER_ROLES), "users": [], "min_approvals": 1}]


def _holds(condition: Any, store: Mapping[str, Any]) -> bool:
    if condition is None or isinstance(condition, bool):
        return condition is not False
    try:
        return bool(compile_expression(str(condition)).evaluate({"store": store, "data": {}}))
    except ExpressionError:
        log.warning("approval level condition failed; keeping the level", extra={"condition": condition})
        return True


def _due_at(meta: Mapping[str, Any], now: datetime) -> datetime | None:
    hours = meta.get("due_in_hours", meta.get("sla_hours"))
    try:
        return now + timedelta(hours=float(hours)) if hours not in (None, "") else None
    except (TypeError, ValueError):
        return None


def node_of(design_id: str, node: str) -> dict[str, Any]:
    """The raw node of a stored design (stage, edges...), or {} if it is gone."""
    version = db.session.get(DesignVersion, design_id)
    for raw in (version.document.get("nodes") or []) if version else []:
        if raw.get("name") == node:
            return raw
    return {}


def makers_of(ctx: EffectContext) -> list[str]:
    runner = db.session.get(Runner, ctx.runner_id)
    ids = {runner.created_by} if runner is not None and runner.created_by else set()
    if ctx.actor is not None and ctx.actor.kind != "system":
        ids.add(ctx.actor.id)
    return sorted(ids)


@on_effect(fx.OpenApproval)
def open_from_effect(ctx: EffectContext, effect: fx.OpenApproval) -> None:
    """Hook: an approval node was reached. Adds the request; the runtime commits it."""
    config = effect.config or {}
    meta = config.get("metadata") if isinstance(config.get("metadata"), Mapping) else {}
    db.session.add(ApprovalRequest(
        id=new_id(), company_id=ctx.company_id, resource_type="runner", resource_id=ctx.runner_id,
        runner_id=ctx.runner_id, flow_id=ctx.flow_id, node=effect.node, effect_id=effect.effect_id,
        stage=node_of(ctx.design_id, effect.node).get("stage"),
        title=str(config.get("title") or effect.node)[:300], description=str(config.get("description") or ""),
        levels=build_levels(config, ctx.store), fields=[str(f) for f in meta.get("fields") or []],
        extra={k: v for k, v in meta.items() if k not in ("levels", "fields")},
        makers=makers_of(ctx), due_at=_due_at(meta, ctx.now), created_at=ctx.now,
        created_by=None if ctx.actor is None else f"{ctx.actor.kind}:{ctx.actor.id}"))


@on_effect(fx.Withdraw)
def withdraw_for_effect(ctx: EffectContext, effect: fx.Withdraw) -> None:
    """Hook: the runner left the node (a direct Execute Runner action, a cancel, the end).

    Only a request still pending is withdrawn: one this service decided (its own `approve` /
    `reject` is what left the node) keeps its decision.
    """
    if effect.kind == "approval":
        db.session.execute(update(ApprovalRequest).where(
            ApprovalRequest.runner_id == ctx.runner_id, ApprovalRequest.effect_id == effect.effect_id,
            ApprovalRequest.status == "pending",
        ).values(status="withdrawn", version=ApprovalRequest.version + 1, updated_at=ctx.now))


def create_approval(actor: Principal, *, resource_type: str, resource_id: str, title: str,
                    description: str = "", levels: list[dict[str, Any]] | None = None,
                    fields: Iterable[str] = (), due_at: datetime | None = None) -> ApprovalRequest:
    """Open a request on any resource ("Create Approvals"); a runner resource must be visible."""
    _require_staff(actor, "admin", "credit_officer")
    errors = []
    if not title.strip():
        errors.append(FieldError("title", "Give the request a title."))
    if not resource_type.strip() or not resource_id.strip():
        errors.append(FieldError("resource_id", "Name the resource to approve."))
    if errors:
        raise ValidationFailed("Invalid approval request.", errors)
    runner = _visible_runner(actor, resource_id) if resource_type == "runner" else None
    request = ApprovalRequest(
        company_id=actor.company_id, resource_type=resource_type, resource_id=resource_id,
        runner_id=runner.id if runner else None, flow_id=runner.flow_id if runner else None,
        stage=runner.stage if runner else None, title=title.strip()[:300], description=description,
        levels=build_levels({"metadata": {"levels": levels}} if levels else {}, {}),
        fields=list(fields), makers=[actor.id], due_at=due_at, created_by=f"{actor.kind}:{actor.id}")
    db.session.add(request)
    db.session.commit()
    return request


def update_approval(actor: Principal, approval_id: str, *, title: str | None = None,
                    description: str | None = None, due_at: datetime | None = None,
                    fields: list[str] | None = None) -> ApprovalRequest:
    """Change what a pending request shows or when it is due; its levels and decisions never change."""
    _require_staff(actor, "admin", "credit_officer")
    request = get_approval(actor, approval_id)
    values: dict[str, Any] = {}
    if title is not None:
        if not title.strip():
            raise ValidationFailed("Invalid approval request.", [FieldError("title", "Cannot be empty.")])
        values["title"] = title.strip()[:300]
    if description is not None:
        values["description"] = description
    if due_at is not None:
        values["due_at"] = due_at
    if fields is not None:
        values["fields"] = [str(f) for f in fields]
    _conditional_write(request, values)
    db.session.commit()
    db.session.refresh(request)
    return request


# ---- reading ------------------------------------------------------------------------------------

def get_approval(actor: Principal, approval_id: str) -> ApprovalRequest:
    """The request if `actor` (staff or API of its company) may see it."""
    _require_staff(actor, *STAFF_ROLES)
    request = db.session.get(ApprovalRequest, approval_id)
    if request is None or request.company_id != actor.company_id:
        raise NotFound("No such approval request.")
    return request


def get_by_resource(actor: Principal, resource_type: str, resource_id: str) -> ApprovalRequest:
    """The newest request on a resource ("Get approval request by resource")."""
    _require_staff(actor, *STAFF_ROLES)
    request = db.session.scalar(
        select(ApprovalRequest).where(ApprovalRequest.company_id == actor.company_id,
                                      ApprovalRequest.resource_type == resource_type,
                                      ApprovalRequest.resource_id == resource_id)
        .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc()).limit(1))
    if request is None:
        raise NotFound("No approval request for that resource.")
    return request


@dataclass(frozen=True)
class Filters:
    """Inbox and list filters; `older_than` keeps requests opened at least that long ago."""

    status: str | None = None
    flow_id: str | None = None
    stage: str | None = None
    older_than: timedelta | None = None


def _filtered(actor: Principal, filters: Filters) -> Select[Any]:
    query = select(ApprovalRequest).where(ApprovalRequest.company_id == actor.company_id)
    if filters.status:
        query = query.where(ApprovalRequest.status == filters.status)
    if filters.flow_id:
        query = query.where(ApprovalRequest.flow_id == filters.flow_id)
    if filters.stage:
        query = query.where(ApprovalRequest.stage == filters.stage)
    if filters.older_than:
        query = query.where(ApprovalRequest.created_at <= utcnow() - filters.older_than)
    return query


def list_approvals(actor: Principal, filters: Filters = Filters(), *, limit: int = pagination.DEFAULT_LIMIT,
                   continuation_token: str | None = None) -> pagination.Page[ApprovalRequest]:
    """Every request of the company, newest first ("Approval List", "Pending Approval")."""
    _require_staff(actor, *STAFF_ROLES)
    return pagination.paginate(_filtered(actor, filters), ApprovalRequest, scope="approvals",
                               limit=limit, continuation_token=continuation_token)


def actionable(actor: Principal, filters: Filters = Filters(), *, sort: str = "newest",
               limit: int = 200) -> list[ApprovalRequest]:
    """Pending requests `actor` may decide now ("Current user approval list", the inbox).

    `sort`: `newest` first, or `overdue` (earliest due first, requests without a due time last).
    """
    if actor.kind not in ("staff", "api"):
        return []
    query = _filtered(actor, Filters(status="pending", flow_id=filters.flow_id, stage=filters.stage,
                                     older_than=filters.older_than))
    if sort == "overdue":
        query = query.order_by(ApprovalRequest.due_at.is_(None), ApprovalRequest.due_at.asc(),
                               ApprovalRequest.created_at.asc())
    else:
        query = query.order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
    # Eligibility depends on levels and earlier deciders (JSON): filter in Python, bounded.
    found = [r for r in db.session.scalars(query.limit(limit * 4))
             if why_not(actor, r, named=False) is None]
    return found[:limit]


def count_actionable(actor: Principal) -> int:
    return len(actionable(actor))


def store_fields(request: ApprovalRequest) -> list[tuple[str, Any]]:
    """The configured store paths and their values, for the people deciding."""
    if not request.runner_id or not request.fields:
        return []
    runner = db.session.get(Runner, request.runner_id)
    store = db.session.get(Store, runner.store_id) if runner else None
    data = store.data if store else {}
    shown = []
    for path in request.fields:
        try:
            expression = path if path.startswith("store.") else f"store.{path}"
            shown.append((path, compile_expression(expression).evaluate({"store": data})))
        except ExpressionError:
            shown.append((path, None))
    return shown


def successor(actor: Principal, request: ApprovalRequest) -> ApprovalRequest | None:
    """The request opened after `request` at the same runner node, e.g. once a re-upload sent the
    runner back and it reached the approval again; None if there is none (yet)."""
    return _neighbour(actor, request, later=True)


def predecessor(actor: Principal, request: ApprovalRequest) -> ApprovalRequest | None:
    """The request opened just before `request` at the same runner node (e.g. the one withdrawn
    when a re-upload sent the runner back), whatever became of it; None if there is none."""
    return _neighbour(actor, request, later=False)


def _neighbour(actor: Principal, request: ApprovalRequest, *, later: bool) -> ApprovalRequest | None:
    """The newest other request at the same runner node opened after (or before) `request`."""
    if request.runner_id is None or request.node is None:
        return None
    _require_staff(actor, *STAFF_ROLES)
    opened = (ApprovalRequest.created_at > request.created_at if later
              else ApprovalRequest.created_at < request.created_at)
    return db.session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.company_id == actor.company_id, ApprovalRequest.runner_id == request.runner_id,
            ApprovalRequest.node == request.node, ApprovalRequest.id != request.id, opened)
        .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc()).limit(1))


# ---- deciding -----------------------------------------------------------------------------------

def verb_of(decision: str) -> str:
    """The past tense of a decision, as activity and audit entries name it."""
    return "approved" if decision == "approve" else "rejected"


def why_not(actor: Principal, request: ApprovalRequest, *,  # noqa: PLR0911  one rule each
            named: bool = True) -> str | None:
    """Why `actor` cannot decide the request's current level now, or None if they can. The level's
    deciders are named as people read them ("Credit officer", a user's name); `named=False` skips
    looking names up, for callers that only ask whether (the inbox's filter over many requests)."""
    if request.status != "pending":
        return f"This request is already {request.status}."
    if actor.kind not in ("staff", "api") or actor.company_id != request.company_id:
        return "Only staff and API clients of the company decide approvals."
    level = request.level
    roles, users = set(level.get("roles") or []), set(level.get("users") or [])
    if not roles and not users:
        roles = set(DECIDER_ROLES)
    if actor.id not in users and not actor.roles & roles:
        deciders = _deciders(request.company_id, roles, users) if named else sorted(roles | users)
        return f"Level {level.get('name')} is for {', '.join(deciders)}; you cannot decide it."
    if actor.id in request.makers:
        return "You created or submitted this; someone else must decide it."
    for decision in request.decisions:
        if decision.actor_id == actor.id and decision.level < request.current_level:
            return "You decided an earlier level of this request; someone else must decide this one."
        if decision.actor_id == actor.id and decision.level == request.current_level:
            return "You already decided this level."
    return None


def _deciders(company_id: str, roles: set[str], user_ids: set[str]) -> list[str]:
    """A level's deciders for a message: roles as the team page names them, users by name (an API
    token or a user no longer there as "a named user"; never an id)."""
    names = {u.id: u.name or u.email for u in db.session.scalars(select(User).where(
        User.company_id == company_id, User.id.in_(user_ids)))} if user_ids else {}
    return ([role.replace("_", " ").capitalize() for role in sorted(roles)]
            + sorted(names.get(u, "a named user") for u in user_ids))


def decide(actor: Principal, approval_id: str, *, decision: str, comment: str = "",
           version: int | None = None) -> ApprovalRequest:
    """Record `actor`'s decision and, if it settles the request, move the runner on.

    `version` is the request version the decider saw (optional): a decision made on a stale page
    is refused. Raises PermissionDenied (not allowed), ValidationFailed (no comment on reject),
    Conflict (already decided, concurrently or not).
    """
    if decision not in ("approve", "reject"):
        raise ValidationFailed("Unknown decision.", [FieldError("decision", "approve or reject.")])
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise ValidationFailed("A rejection needs a comment.",
                               [FieldError("comment", "Say why you reject this request.")])
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed("Comment too long.",
                               [FieldError("comment", f"At most {MAX_COMMENT} characters.")])
    request = get_approval(actor, approval_id)
    reason = why_not(actor, request)
    if reason is not None:
        raise (Conflict if request.status != "pending" else PermissionDenied)(reason)
    if version is not None and version != request.version:
        # Not "reload": reloading a refused POST sends the same stale version again.
        raise Conflict("This request changed since you opened it; open it again to see it as it "
                       "is now, then decide.")
    level_no, level, now = request.current_level, request.level, utcnow()
    approvals_here = 1 + sum(1 for d in request.decisions
                             if d.level == level_no and d.decision == "approve")
    values: dict[str, Any] = {}
    if decision == "reject":
        values.update(status="rejected", decided_at=now)
    elif approvals_here >= level["min_approvals"]:
        if level_no >= len(request.levels):
            values.update(status="approved", decided_at=now)
        else:
            values["current_level"] = level_no + 1
    _conditional_write(request, values, now=now)
    db.session.add(ApprovalDecision(
        company_id=request.company_id, request_id=request.id, level=level_no,
        level_name=str(level.get("name") or ""), decision=decision, actor_kind=actor.kind,
        actor_id=actor.id, actor_name=actor.name, comment=comment, at=now))
    runner = db.session.get(Runner, request.runner_id) if request.runner_id else None
    if runner is not None:
        from app.services.runners import record_activity

        verb = verb_of(decision)
        record_activity(runner, f"approval.{verb}", actor=actor, node=request.node, at=now,
                        message=f"{actor.name} {verb} level {level.get('name')}"
                                + (f": {comment}" if comment else "."),
                        details={"approval_id": request.id, "level": level_no,
                                 "level_name": level.get("name"), "decision": decision,
                                 "comment": comment})
    record_audit(actor, Action.APPROVAL_APPROVED if decision == "approve" else Action.APPROVAL_REJECTED,
                 "approval", request.id, {
        "runner_id": request.runner_id, "level": level_no, "outcome": values.get("status", "pending")})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(request)
    if request.status in ("approved", "rejected"):
        apply_outcome(actor, request)
    return request


def _conditional_write(request: ApprovalRequest, values: dict[str, Any], *,
                       now: datetime | None = None) -> None:
    """Write `values` only if nobody changed the request since it was read, else Conflict."""
    result = db.session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.version == request.version,
               ApprovalRequest.status == "pending")
        .values(**values, version=request.version + 1, updated_at=now or utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict("This approval request was just decided or changed by someone else; "
                       "nothing was recorded. Reload to see its current state.")


def apply_outcome(actor: Principal, request: ApprovalRequest) -> None:
    """Submit the settled decision at the runner's node (`approve` / `reject` edge) as a service.

    Runs after the decision is committed, so a runner that cannot take it (cancelled, moved on)
    never loses the decision; the failure is kept on the request and in the log.
    """
    if request.runner_id is None or request.node is None or request.extra.get("outcome_applied"):
        return
    from app.services.runners import execute_runner

    action = "approve" if request.status == "approved" else "reject"
    last = request.decisions[-1] if request.decisions else None
    data = {"approval_id": request.id, "decision": action,
            "comment": last.comment if last else "", "reason": last.comment if last else "",
            "decided_by": last.actor_name if last else ""}
    try:
        execute_runner(actor, request.runner_id, action=action, data=data, node=request.node,
                       as_system=True)
        outcome: dict[str, Any] = {"outcome_applied": True}
    except (Conflict, ValidationFailed, NotFound) as error:
        db.session.rollback()
        log.warning("approval decided but the runner did not move", extra={"approval_id": request.id})
        outcome = {"outcome_error": error.message}
    db.session.execute(update(ApprovalRequest).where(ApprovalRequest.id == request.id)
                       .values(extra={**request.extra, **outcome})
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(request)


def approve(actor: Principal, approval_id: str, *, comment: str = "",
            version: int | None = None) -> ApprovalRequest:
    return decide(actor, approval_id, decision="approve", comment=comment, version=version)


def reject(actor: Principal, approval_id: str, *, comment: str,
           version: int | None = None) -> ApprovalRequest:
    return decide(actor, approval_id, decision="reject", comment=comment, version=version)


# ---- helpers ------------------------------------------------------------------------------------

def _require_staff(actor: Principal, *roles: str) -> None:
    if actor.kind == "system":
        return
    if actor.kind not in ("staff", "api") or not actor.has_role(*roles):
        raise PermissionDenied(f"This needs one of the roles: {', '.join(roles)}.")


def _visible_runner(actor: Principal, runner_id: str) -> Runner:
    from app.services.runners import get_runner

    return get_runner(actor, runner_id)
