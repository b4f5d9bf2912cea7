"""Extension point for features that react to engine effects (approvals, checklists, documents...).

The runner runtime calls every hook registered for an effect's type inside the same transaction that
persists the transition, so a hook's rows commit (or roll back) together with the runner's state.
Hooks add rows to `db.session`; they never commit, and they must not perform slow I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.services.principal import Principal


@dataclass(frozen=True)
class EffectContext:
    """What a hook may know about the transition that emitted the effect."""

    company_id: str
    runner_id: str
    flow_id: str
    design_id: str
    now: datetime
    actor: Principal | None  # who caused the transition (None: the system, e.g. a timer)
    store: Mapping[str, Any]  # the runner's store after the transition; read it, don't change it
    stage: str | None = None  # the runner's stage after the transition (a node without one keeps it)


Hook = Callable[[EffectContext, Any], None]
_HOOKS: defaultdict[type, list[Hook]] = defaultdict(list)


def on_effect(*effect_types: type) -> Callable[[Hook], Hook]:
    """Register `fn(ctx, effect)` for these engine effect types (see app.engine.effects)."""

    def register(fn: Hook) -> Hook:
        for effect_type in effect_types:
            if fn not in _HOOKS[effect_type]:
                _HOOKS[effect_type].append(fn)
        return fn

    return register


def run_hooks(ctx: EffectContext, effect: Any) -> None:
    for hook in _HOOKS.get(type(effect), ()):
        hook(ctx, effect)


def load_feature_hooks() -> None:
    """Import every feature that registers hooks (listed in hooks_registry); called by create_app."""
    import app.services.hooks_registry  # noqa: F401
