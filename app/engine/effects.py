"""What the engine asks services to do: the outputs of `advance`. Effects never carry secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.engine.state import ExecutionRecord


@dataclass(frozen=True, slots=True)
class CallHttp:
    """Perform an api_call node: render it with `prepare_request`, then report the result."""

    effect_id: str
    node: str
    attempt: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RunCode:
    """Run a code_snippet's `main(data, store)` in the sandbox; its dict result joins the store.

    `store` is the runner's live store, not a copy: serialise it when performing the effect.
    """

    effect_id: str
    node: str
    attempt: int
    code: str
    data: Any
    store: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenApproval:
    """Open an approval request; the approval service later acts `approve`/`reject` as system."""

    effect_id: str
    node: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenChecklist:
    """Open a checklist; the checklist service acts `complete` as system when it is done."""

    effect_id: str
    node: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestDocuments:
    """Ask someone for documents; the upload is submitted as an action at the node."""

    effect_id: str
    node: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AwaitCallback:
    """Register `token` so an external POST carrying it becomes a `CallbackReceived`."""

    effect_id: str
    node: str
    token: str


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Raise `TimerFired(effect_id)` at `due_at`; `purpose` tells a timer node from a retry."""

    effect_id: str
    node: str
    due_at: datetime
    purpose: Literal["timer", "retry"] = "timer"


@dataclass(frozen=True, slots=True)
class StartChild:
    """Start a child runner of `flow`; report its end as `ChildFinished(effect_id, ...)`."""

    effect_id: str
    node: str
    flow: str
    version: int | None
    data: Any


@dataclass(frozen=True, slots=True)
class Notify:
    """Send a message (fire and forget); the engine has already moved on."""

    node: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """A `return` edge answered the caller with `data`; the runner stays at `node`."""

    node: str
    action: str
    data: Any


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Awaited work is no longer wanted (runner ended or cancelled): close it if you can."""

    effect_id: str
    node: str
    kind: str


@dataclass(frozen=True, slots=True)
class WriteExecution:
    """Persist (upsert by `record.id`) one node visit."""

    record: ExecutionRecord


@dataclass(frozen=True, slots=True)
class Finished:
    """The runner reached succeeded, failed or cancelled; `failed` can still be retried.

    `error` is why: the failure, the cancel reason, or the end node's `message` (its outcome, such
    as "Not approved", whatever its status). `node` is the end node reached, when one ended it.
    """

    status: str
    error: str | None = None
    node: str | None = None


Effect = (
    CallHttp
    | RunCode
    | OpenApproval
    | OpenChecklist
    | RequestDocuments
    | AwaitCallback
    | ScheduleTimer
    | StartChild
    | Notify
    | Reply
    | Withdraw
    | WriteExecution
    | Finished
)
