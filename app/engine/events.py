"""What can happen to a runner: the inputs of `advance`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ActorKind = Literal["staff", "customer", "system", "api"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who causes an event; kind `system` bypasses node permissions (trusted services only)."""

    id: str
    kind: ActorKind = "staff"
    roles: frozenset[str] = frozenset()


SYSTEM = Actor("system", "system")


@dataclass(frozen=True, slots=True)
class Started:
    """Moves a queued runner to its start node; `data` is validated by the start node's schema."""

    data: Any = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ActionSubmitted:
    """A person or client acts at a waiting node; `node` may be omitted when only one node waits."""

    action: str
    data: Any = None
    actor: Actor = SYSTEM
    node: str | None = None


@dataclass(frozen=True, slots=True)
class EffectSucceeded:
    """A service performed an effect (HTTP call, code run) and reports its result."""

    effect_id: str
    result: Any = None


@dataclass(frozen=True, slots=True)
class EffectFailed:
    """A service could not perform an effect; `retryable=False` skips the remaining retries."""

    effect_id: str
    error: str
    retryable: bool = True


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A scheduled timer or retry is due; raising it early is refused."""

    effect_id: str


@dataclass(frozen=True, slots=True)
class CallbackReceived:
    """An outside system answered a callback node; the service already checked its signature."""

    token: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class ChildFinished:
    """A child runner started by a subflow node ended; `result` is the child's store."""

    effect_id: str
    status: Literal["succeeded", "failed", "cancelled"]
    result: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RetryRequested:
    """Re-runs a failed runner from its failed node, with a fresh round of attempts."""

    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """Stops a runner for good; open work is withdrawn."""

    actor: Actor = SYSTEM
    reason: str = field(default="cancelled")


Event = (
    Started
    | ActionSubmitted
    | EffectSucceeded
    | EffectFailed
    | TimerFired
    | CallbackReceived
    | ChildFinished
    | RetryRequested
    | CancelRequested
)
