"""The state machine: `advance(design, state, event)` returns the new state and the effects."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from app.engine import effects as fx
from app.engine import events as ev
from app.engine.errors import InvalidInput, InvalidState, NoMatchingEdge, PermissionDenied
from app.engine.expressions import ExpressionError
from app.engine.model import Design, Edge, Node
from app.engine.nodes.base import schema_errors
from app.engine.run import Clock, Run
from app.engine.state import Pending, RunnerState, Slot, Status


def advance(design: Design, state: RunnerState, event: ev.Event, *, clock: Clock | None = None,
            env: Mapping[str, Any] | None = None) -> tuple[RunnerState, list[fx.Effect]]:
    """Apply one event and run automatic nodes until the runner waits, ends or fails.

    The state is mutated in place and returned (copying it per step would make a step cost the
    size of the store). Domain errors (PermissionDenied, NoMatchingEdge, InvalidInput,
    InvalidState) are raised before anything changes, so a refused event leaves the state as it
    was. `clock` must return aware datetimes; `env` is the `env` name expressions see.
    """
    run = Run(design, state, clock, env)
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise InvalidState(f"unknown event {type(event).__name__}")
    handler(run, event)
    run.drain()
    run.settle()
    return state, run.effects


def execute(design: Design, state: RunnerState, action: str, data: Any, actor: ev.Actor, *,
            node: str | None = None, clock: Clock | None = None,
            env: Mapping[str, Any] | None = None) -> tuple[RunnerState, list[fx.Effect]]:
    """Submit `action` with `data` at a waiting node as `actor` (see `advance`)."""
    return advance(design, state, ev.ActionSubmitted(action, data, actor, node),
                   clock=clock, env=env)


def may_act(node: Node, actor: ev.Actor, action: str) -> bool:
    """Whether `actor` may submit `action` at `node`: the rule `execute` applies. The system actor
    always may; nobody else at a node its service decides (approvals, checklists, documents);
    otherwise a permission entry must name one of the actor's roles (or `*`) and the action (or `*`)."""
    if actor.kind == "system":
        return True
    if node.type.service_decides:
        return False
    return any(p.allows(actor.roles, action) for p in node.permissions)


def permitted_actions(node: Node, actor: ev.Actor) -> list[str]:
    """The actions of `node` (those its edges take) that `actor` may submit, sorted; what a page
    offers someone. Offering is not deciding: `execute` checks again."""
    return [action for action in node.actions if may_act(node, actor, action)]


def can_retry(state: RunnerState) -> bool:
    """Whether `RetryRequested` resumes the runner: it failed at a node it can run again. A runner
    that ended at an end node whose status is failed (its outcome, such as "Not eligible") or that
    stopped without reaching an end has no such node; this is the rule `advance` applies."""
    return (state.status is Status.FAILED and state.failed_node is not None
            and state.failed_node in state.slots)


# -- event handlers ---------------------------------------------------------------------------
def _started(run: Run, event: ev.Started) -> None:
    state = run.state
    if state.status is not Status.QUEUED:
        raise InvalidState(f"runner is {state.status.value}, only a queued runner can start")
    start = run.design.nodes[run.design.start_node]
    _check_input(start, event.data)
    state.status = Status.RUNNING
    run.queue.append((start.name, event.data))


def _check_input(node: Node, data: Any) -> None:
    validator = getattr(node.compiled, "validator", None)
    if validator is not None:
        errors = schema_errors(validator, data)
        if errors:
            raise InvalidInput(node.name, errors)


def _acting_slot(state: RunnerState, nodes: Mapping[str, Node], node: str | None) -> Slot:
    """The slot an action goes to: the named node's, else the one node waiting for an action."""
    if node is not None:
        slot = state.slots.get(node)
        if slot is None:
            raise InvalidState(f"runner is not at node '{node}'; current nodes: "
                               f"{', '.join(state.slots) or 'none'}")
        return slot
    ready = [s for s in state.slots.values()
             if s.status == "waiting" and nodes[s.node].type.accepts_actions]
    if not ready:  # e.g. busy with automatic nodes, or waiting on a timer or a call
        raise InvalidState(f"no node is waiting for an action now (the runner is "
                           f"{state.status.value}); try again once it waits for one")
    if len(ready) > 1:
        raise InvalidState("name the node to act on; nodes taking actions: "
                           f"{', '.join(s.node for s in ready)}")
    return ready[0]


def _action(run: Run, event: ev.ActionSubmitted) -> None:
    state, nodes = run.state, run.design.nodes
    if state.status not in (Status.WAITING, Status.RUNNING):
        raise InvalidState(f"runner is {state.status.value}; it takes no actions now")
    slot = _acting_slot(state, nodes, event.node)
    node = nodes[slot.node]
    if not node.type.accepts_actions or slot.status != "waiting":
        raise InvalidState(f"node '{node.name}' is not waiting for an action")
    actor = event.actor
    if not may_act(node, actor, event.action):
        # Says why (the rule itself is may_act's), naming roles but never the actor's id: this
        # message reaches pages and API clients as it is.
        if node.type.service_decides:
            raise PermissionDenied(f"node '{node.name}' is decided through "
                                   f"{node.type.decided_through}, not by an action")
        roles = ", ".join(sorted(actor.roles)) or "none"
        raise PermissionDenied(f"'{event.action}' at node '{node.name}' is not permitted to "
                               f"your roles ({roles})")
    if event.action not in node.by_action:
        raise NoMatchingEdge(node.name, event.action, node.by_action)
    if node.ignores_data(event.action):
        # A Back button: whatever a half-filled form sent is dropped, unchecked and unstored.
        event = dataclasses.replace(event, data={})
    else:
        _check_input(node, event.data)
    try:
        edge, _ = run.choose(node, event.action, event.data)
    except ExpressionError as err:
        run.fail(slot, node, err.message, retryable=False)
        return
    if edge is None:
        raise NoMatchingEdge(node.name, event.action, node.by_action)
    store_as = node.config.get("store_as")
    if store_as and edge.type != "return" and not edge.ignores_data:
        run.merge({store_as: event.data})
    run.guard(slot, node, _complete_with, event, edge)


def _complete_with(run: Run, slot: Slot, node: Node, event: ev.ActionSubmitted,
                   edge: Edge) -> None:
    run.complete(slot, node, event.data, action=event.action, actor=event.actor.id, edge=edge)


def _awaited(run: Run, effect_id: str, kinds: frozenset[str]) -> tuple[Pending, Slot, Node]:
    pending = run.state.pending.get(effect_id)
    if pending is None or pending.kind not in kinds:
        raise InvalidState(f"runner {run.state.runner_id} awaits no such work: {effect_id}")
    if run.state.status in (Status.SUCCEEDED, Status.CANCELLED):
        raise InvalidState(f"runner is {run.state.status.value}")
    slot = run.state.slots[pending.node]
    return pending, slot, run.design.nodes[pending.node]


_RESULT_KINDS = frozenset({"http", "code"})


def _succeeded(run: Run, event: ev.EffectSucceeded) -> None:
    pending, slot, node = _awaited(run, event.effect_id, _RESULT_KINDS)
    del run.state.pending[pending.effect_id]
    slot.effect_id = None
    run.guard(slot, node, node.type.resume, event.result)  # type: ignore[arg-type]


# Any opened work can fail to open (no such child flow, approval service refused); timers cannot.
_FAILABLE_KINDS = frozenset({"http", "code", "child", "approval", "checklist", "documents",
                             "callback"})


def _failed(run: Run, event: ev.EffectFailed) -> None:
    _, slot, node = _awaited(run, event.effect_id, _FAILABLE_KINDS)
    run.fail(slot, node, event.error, retryable=event.retryable)


def _timer(run: Run, event: ev.TimerFired) -> None:
    pending, slot, node = _awaited(run, event.effect_id, frozenset({"timer", "retry"}))
    now = run.clock()
    if pending.due_at is not None and now < pending.due_at:
        raise InvalidState(f"timer {event.effect_id} is not due until {pending.due_at.isoformat()}")
    del run.state.pending[pending.effect_id]
    slot.effect_id = None
    if pending.kind == "retry":
        run.attempt(slot, node)
    else:
        run.guard(slot, node, node.type.resume, None)  # type: ignore[arg-type]


def _callback(run: Run, event: ev.CallbackReceived) -> None:
    found = next((p for p in run.state.pending.values()
                  if p.kind == "callback" and p.token == event.token), None)
    if found is None:
        raise InvalidState("no node awaits this callback token")
    pending, slot, node = _awaited(run, found.effect_id, frozenset({"callback"}))
    _check_input(node, event.data)
    del run.state.pending[pending.effect_id]
    slot.effect_id = None
    run.guard(slot, node, node.type.resume, event.data)  # type: ignore[arg-type]


def _child(run: Run, event: ev.ChildFinished) -> None:
    pending, slot, node = _awaited(run, event.effect_id, frozenset({"child"}))
    if event.status == "succeeded":
        del run.state.pending[pending.effect_id]
        slot.effect_id = None
        run.guard(slot, node, node.type.resume, event.result)  # type: ignore[arg-type]
    else:
        run.fail(slot, node, f"child runner {event.status}: {event.error or 'no reason given'}")


def _retry(run: Run, event: ev.RetryRequested) -> None:
    state = run.state
    if not can_retry(state) or state.failed_node is None:  # can_retry implies a node; mypy needs it said
        raise InvalidState(f"runner is {state.status.value} with no failed node to retry")
    slot = state.slots[state.failed_node]
    state.failed_node = state.error = None
    state.status = Status.RUNNING
    state.seq += 1
    slot.visit, slot.attempt = state.seq, 1  # a fresh round of attempts and idempotency keys
    run.attempt(slot, run.design.nodes[slot.node])


def _cancel(run: Run, event: ev.CancelRequested) -> None:
    if run.state.status in (Status.SUCCEEDED, Status.CANCELLED):
        raise InvalidState(f"runner is already {run.state.status.value}")
    run.finish(Status.CANCELLED, event.reason)


_HANDLERS: dict[type, Callable[[Run, Any], None]] = {
    ev.Started: _started,
    ev.ActionSubmitted: _action,
    ev.EffectSucceeded: _succeeded,
    ev.EffectFailed: _failed,
    ev.TimerFired: _timer,
    ev.CallbackReceived: _callback,
    ev.ChildFinished: _child,
    ev.RetryRequested: _retry,
    ev.CancelRequested: _cancel,
}
