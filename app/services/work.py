"""Due work: claim WorkItems under a lease, perform their I/O, and feed the results to the engine."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from app import engine
from app.effects.code_snippet import SnippetError, SnippetLimits, run_snippet
from app.effects.http_call import HttpCallError, OutboundPolicy, perform_http_call
from app.effects.redact import Redactor
from app.effects.token_cache import MemoryTokenCache
from app.extensions import db
from app.models import DesignVersion, Flow, Runner, WorkItem
from app.models.base import new_id
from app.services import errors, outbound_allowlist, runtime, secret_guard
from app.services.clock import now as utcnow
from app.services.principal import Principal

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# One cache per process: tokens from seed 001's auth_token_config live here, never in the database.
TOKEN_CACHE = MemoryTokenCache()


def claim_due(*, runner_id: str | None = None, now: datetime | None = None,
              limit: int = 20) -> list[tuple[str, str]]:
    """Lease up to `limit` due items; returns (item id, lease token) pairs. One commit.

    On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets many workers pick disjoint items without waiting;
    everywhere, the conditional UPDATE is what makes a claim exclusive.
    """
    now = now or utcnow()
    claimable = or_(WorkItem.lease_expires_at.is_(None), WorkItem.lease_expires_at < now)
    query = (select(WorkItem.id).where(WorkItem.due_at <= now, claimable)
             .order_by(WorkItem.due_at).limit(limit))
    if runner_id is not None:
        query = query.where(WorkItem.runner_id == runner_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for item_id in db.session.scalars(query).all():
        token = new_id()
        result = db.session.execute(
            update(WorkItem).where(WorkItem.id == item_id, claimable)
            .values(lease_token=token, lease_expires_at=now + LEASE, attempts=WorkItem.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append((item_id, token))
    db.session.commit()
    return claimed


def perform(item_id: str, token: str) -> list[str]:
    """Do one claimed item; returns runner ids that now have work of their own (children, parents)."""
    item = db.session.get(WorkItem, item_id, populate_existing=True)
    if item is None or item.lease_token != token:
        return []
    runner_id, kind, effect_id, payload = item.runner_id, item.kind, item.effect_id, item.payload
    try:
        event, wake = _event_for(item, runner_id, kind, effect_id, payload)
        if event is None:
            return wake
        runtime.transition(runner_id, event, actor=None, work=(item_id, token))
        return [runner_id, *wake]
    except errors.ServiceError as error:
        settle_refused(item_id, token, runner_id, effect_id, error)
        return []
    except Exception as error:  # a bug or an outage: keep the item; it is retried when the lease ends
        db.session.rollback()
        log.exception("work item failed", extra={"kind": kind, "error_type": type(error).__name__})
        db.session.execute(update(WorkItem).where(WorkItem.id == item_id, WorkItem.lease_token == token)
                           .values(last_error=type(error).__name__))
        db.session.commit()
        return []


def settle_refused(item_id: str, token: str, runner_id: str, effect_id: str,
                   error: errors.ServiceError) -> None:
    """The engine refused the item's event. Drop the item if the runner no longer awaits it (moved
    on, cancelled); otherwise (e.g. a timer raised early by a skewed clock) try again shortly."""
    db.session.rollback()
    runner = db.session.get(Runner, runner_id, populate_existing=True)
    awaited = runner is not None and any(
        p.get("effect_id") == effect_id.removesuffix(":done") for p in runner.state.get("pending", []))
    mine = (WorkItem.id == item_id, WorkItem.lease_token == token)
    if awaited:
        db.session.execute(update(WorkItem).where(*mine).values(
            lease_token=None, lease_expires_at=None, due_at=utcnow() + timedelta(seconds=5),
            last_error=error.message[:500]))
    else:
        log.info("work item dropped", extra={"reason": error.message})
        db.session.execute(delete(WorkItem).where(*mine))
    db.session.commit()


def _event_for(item: WorkItem, runner_id: str, kind: str, effect_id: str,
               payload: dict[str, Any] | None) -> tuple[Any, list[str]]:
    if kind in ("timer", "retry"):
        return engine.TimerFired(effect_id), []
    if kind == "child_done":
        data = payload or {}
        return engine.ChildFinished(effect_id.removesuffix(":done"), data.get("status", "failed"),
                                    data.get("result"), data.get("error")), []
    step = runtime.load(runner_id)
    effect = next((e for e in engine.pending_effects(step.design, step.state, clock=utcnow)
                   if getattr(e, "effect_id", None) == effect_id), None)
    if effect is None:  # the runner moved on (cancelled, migrated): nothing to do any more
        db.session.delete(item)
        db.session.commit()
        return None, []
    if kind == "child":
        return _start_child(step, effect, item)
    if kind == "http":
        return _http_event(step, effect), []
    if kind == "code":
        code, data, store = effect.code, effect.data, dict(effect.store)
        db.session.rollback()
        return _run(effect.effect_id, code, data, store), []
    raise errors.Conflict(f"unknown work kind {kind}")


def _http_event(step: runtime.Transition, effect: Any) -> Any:
    """Render the call, refusing it if a secret would land outside its allowed fields or hosts,
    then perform it under the company's outbound policy."""
    company_id = step.row.company_id
    try:
        checked = secret_guard.prepare_checked_request(
            step.design, step.state, effect.node, company_id=company_id, runner_id=step.row.id,
            env=runtime.engine_env(), clock=utcnow)
    except secret_guard.SecretUseRefused as refused:
        db.session.commit()  # keeps the audit rows of the reads and of the refusal
        return engine.EffectFailed(effect.effect_id, refused.message, retryable=False)
    policy = outbound_policy(company_id)
    db.session.commit()  # keeps the secret-read audit rows; ends the transaction before slow I/O
    if checked.host_bound:
        policy = dataclasses.replace(policy, max_redirects=0)  # a hop could take the secret elsewhere
    return _call(effect.effect_id, checked.request, effect.idempotency_key, policy, checked.redact)


def _call(effect_id: str, request: dict[str, Any], idempotency_key: str,
          policy: OutboundPolicy | None = None, redact: Redactor | None = None) -> Any:
    try:
        result = perform_http_call(request, idempotency_key=idempotency_key,
                                   policy=policy or outbound_policy(), token_cache=TOKEN_CACHE)
    except HttpCallError as error:  # its message never carries the URL, headers or body
        return engine.EffectFailed(effect_id, error.message, retryable=error.retryable)
    answer = {"status": result["status"], "headers": result["headers"], "body": result["body"]}
    # The answer goes to the store and the executions, which staff read: no secret we sent in it.
    return engine.EffectSucceeded(effect_id, redact(answer) if redact else answer)


def outbound_policy(company_id: str | None = None) -> OutboundPolicy:
    """Private and loopback destinations stay refused unless the FLOWDESK_OUTBOUND_ALLOW_* settings
    or the company's own allowlist name them."""
    return outbound_allowlist.policy_for(company_id)


def _run(effect_id: str, code: str, data: Any, store: dict[str, Any]) -> Any:
    try:
        result = run_snippet(code, data if isinstance(data, dict) else {"value": data}, store,
                             limits=SnippetLimits())
    except SnippetError as error:
        return engine.EffectFailed(effect_id, error.message, retryable=error.kind in ("timeout", "sandbox"))
    return engine.EffectSucceeded(effect_id, result)


def _start_child(step: runtime.Transition, effect: Any, item: WorkItem) -> tuple[Any, list[str]]:
    """Create the sub-flow's runner once (a repeat finds it), then mark the item done."""
    parent = step.row
    existing = db.session.scalar(select(Runner.id).where(Runner.parent_runner_id == parent.id,
                                                         Runner.parent_effect_id == effect.effect_id))
    if existing is None:
        version = _child_version(parent.company_id, effect.flow, effect.version)
        if version is None:
            return engine.EffectFailed(effect.effect_id, f"sub-flow '{effect.flow}' not found",
                                       retryable=False), []
        from app.services.runners import start_runner

        db.session.rollback()
        outcome = start_runner(Principal.system(parent.company_id), version, data=effect.data,
                               customer_id=parent.customer_id, parent=(parent.id, effect.effect_id))
        existing = outcome.runner.id
    db.session.delete(db.session.get(WorkItem, item.id))
    db.session.commit()
    return None, [existing]


def _child_version(company_id: str, flow_ref: str, number: int | None) -> DesignVersion | None:
    flow = db.session.scalar(select(Flow).where(Flow.company_id == company_id,
                                                or_(Flow.slug == flow_ref, Flow.id == flow_ref)))
    if flow is None:
        return None
    if number is None:
        return db.session.get(DesignVersion, flow.current_design_id) if flow.current_design_id else None
    return db.session.scalar(select(DesignVersion).where(DesignVersion.flow_id == flow.id,
                                                         DesignVersion.version == number))


def drain(runner_ids: list[str], *, now: datetime | None = None, max_items: int = 500) -> int:
    """Perform every due item of these runners (and of runners they wake) until none is due."""
    queue, done = list(dict.fromkeys(runner_ids)), 0
    while queue and done < max_items:
        runner_id = queue.pop(0)
        claimed = claim_due(runner_id=runner_id, now=now, limit=1)
        if not claimed:
            continue
        woken = perform(*claimed[0])
        done += 1
        for other in [runner_id, *woken]:
            if other not in queue:
                queue.append(other)
    return done


def fire_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """One worker pass over every runner: perform up to `limit` due items. Returns how many."""
    count = 0
    for item_id, token in claim_due(now=now, limit=limit):
        for runner_id in perform(item_id, token):
            count += drain([runner_id], now=now)
        count += 1
    return count
