"""Moving a runner to another version of its design."""

from __future__ import annotations

from app.engine.errors import DesignError
from app.engine.model import Design
from app.engine.state import RunnerState


def check_migration(state: RunnerState, new_design: Design) -> list[str]:
    """Names of the nodes the runner is at (or awaits work for) that `new_design` lacks."""
    needed = set(state.slots) | {p.node for p in state.pending.values()} | set(state.joins)
    if state.failed_node:
        needed.add(state.failed_node)
    return sorted(n for n in needed if n not in new_design.nodes)


def migrate(state: RunnerState, new_design: Design) -> RunnerState:
    """Point the runner at `new_design`; refused with the missing node names if any are gone."""
    missing = check_migration(state, new_design)
    if missing:
        raise DesignError(f"cannot move runner {state.runner_id} to design {new_design.key}: "
                          f"its current nodes are missing there: {', '.join(missing)}")
    state.design_key = new_design.key
    return state
