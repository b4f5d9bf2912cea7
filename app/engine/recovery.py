"""Re-deriving awaited work from state, and the services' view of one api_call request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.engine import effects as fx
from app.engine.errors import InvalidState
from app.engine.expressions import ExpressionError
from app.engine.model import Design
from app.engine.nodes.base import NodeFailure
from app.engine.run import Clock, Run
from app.engine.state import RunnerState


def pending_effects(design: Design, state: RunnerState, *,
                    clock: Clock | None = None) -> list[fx.Effect]:
    """The effects for everything the runner awaits, so a restarted worker can perform them again.

    Effect ids are the same as when first emitted; services must treat a repeat as idempotent.
    Work whose effect cannot be rebuilt (a template now fails) is skipped.
    """
    run = Run(design, state, clock, None)
    out: list[fx.Effect] = []
    for pending in state.pending.values():
        if pending.due_at is not None:
            purpose = "retry" if pending.kind == "retry" else "timer"
            out.append(fx.ScheduleTimer(pending.effect_id, pending.node, pending.due_at, purpose))
            continue
        node = design.nodes[pending.node]
        slot = state.slots[pending.node]
        if node.type.derive is None:
            continue
        try:
            out.append(node.type.derive(run, slot, node, pending))
        except (ExpressionError, NodeFailure):
            continue
    return out


def prepare_request(design: Design, state: RunnerState, node_name: str, *,
                    secrets: Mapping[str, Any], env: Mapping[str, Any], clock: Clock,
                    masked: bool = False) -> dict[str, Any]:
    """Render an api_call node's request at perform time; the result may hold secrets.

    Never persist the unmasked result: `masked=True` replaces every SECRET-derived value with
    asterisks (without reading `secrets`) for the execution record.
    Keys: method, url, headers, query, body, body_type, timeout, response_type and, when the node
    has them, auth_token_config and encryption_config.
    """
    node = design.nodes.get(node_name)
    slot = state.slots.get(node_name)
    if node is None or node.type.name != "api_call":
        raise InvalidState(f"'{node_name}' is not an api_call node of design {design.key}")
    if slot is None:
        raise InvalidState(f"runner {state.runner_id} is not at node '{node_name}'")
    run = Run(design, state, clock, env)
    secret_params = run.params_with({"SECRET": secrets}) if design.params is not None else {}
    ctx = run.context(slot.data)
    ctx["SECRET"] = secrets
    ctx["params"] = secret_params
    rendered = node.compiled.request.render(ctx, masked=masked, clock=clock)
    request = {"method": "get", "headers": {}, "query": {}, "body": None, "body_type": "json",
               "timeout": None, "response_type": "json"}
    request.update(rendered)
    request["method"] = str(request["method"]).lower()
    return request
