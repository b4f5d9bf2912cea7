"""Runtime values of one runner: status, current nodes, awaited work and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Runner lifecycle.

    queued -> running (the engine or a service is working: HTTP call, code run, retry backoff)
    <-> waiting (only people, callbacks, timers or child runners can move it on)
    -> succeeded | failed | cancelled. `failed` is not final: `RetryRequested` resumes it.
    """

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({Status.SUCCEEDED, Status.CANCELLED})
# Pending kinds a service works on by itself; any of them keeps the runner `running`.
BUSY_KINDS = frozenset({"http", "code", "retry"})


@dataclass(slots=True)
class ExecutionRecord:
    """One visit (one attempt) of one node; emitted via `WriteExecution`, upserted by `id`."""

    id: str
    node: str
    attempt: int
    status: str  # running | waiting | succeeded | failed | cancelled
    started_at: datetime
    input: Any = None
    action: str | None = None
    actor: str | None = None
    output: Any = None
    error: str | None = None
    finished_at: datetime | None = None


@dataclass(slots=True)
class Slot:
    """A current node. `visit` is stable across retry attempts and feeds idempotency keys."""

    node: str
    visit: int
    attempt: int = 1
    status: str = "running"  # running | waiting | retrying | failed
    data: Any = None  # the input that entered the node; retries and re-derived effects reuse it
    record: ExecutionRecord | None = None
    effect_id: str | None = None


@dataclass(slots=True)
class Pending:
    """Work the runner awaits; enough to re-derive the effect after a worker restart."""

    effect_id: str
    kind: str  # http | code | approval | checklist | documents | callback | timer | retry | child
    node: str
    attempt: int = 1
    due_at: datetime | None = None
    token: str | None = None


@dataclass(slots=True)
class RunnerState:
    """Everything the engine knows about a runner. `advance` mutates and returns it."""

    runner_id: str
    design_key: str = ""
    status: Status = Status.QUEUED
    store: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    joins: dict[str, int] = field(default_factory=dict)  # join node -> branches still to arrive
    seq: int = 0
    error: str | None = None  # why it failed, was cancelled, or the end node's message
    failed_node: str | None = None
    # Set when an advance merged data into the store; not serialised. Lets services skip writing an
    # unchanged store without comparing (or even serialising) it.
    store_changed: bool = False

    @property
    def current_nodes(self) -> list[str]:
        """Names of the nodes the runner is at, in arrival order."""
        return list(self.slots)

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{self.runner_id}:{prefix}{self.seq}"


def new_state(runner_id: str, design_key: str = "") -> RunnerState:
    """A queued runner; send it `Started` to enter the design's start node."""
    return RunnerState(runner_id=runner_id, design_key=design_key)


def next_due(state: RunnerState) -> datetime | None:
    """Earliest timer or retry the runner waits for, or None; workers poll on this."""
    dues = [p.due_at for p in state.pending.values() if p.due_at is not None]
    return min(dues) if dues else None
