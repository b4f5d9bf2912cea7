"""Flowdesk's workflow engine: a pure library turning (design, state, event) into (state, effects).

See app/engine/README.md for the contract; docs/designs.md for the design format.
"""

from __future__ import annotations

from app.engine.compiling import Problem
from app.engine.design import clear_cache, compile_design, design_key
from app.engine.effects import (
    AwaitCallback,
    CallHttp,
    Effect,
    Finished,
    Notify,
    OpenApproval,
    OpenChecklist,
    Reply,
    RequestDocuments,
    RunCode,
    ScheduleTimer,
    StartChild,
    Withdraw,
    WriteExecution,
)
from app.engine.errors import (
    DesignError,
    EngineError,
    InvalidInput,
    InvalidState,
    NoMatchingEdge,
    PermissionDenied,
)
from app.engine.events import (
    SYSTEM,
    ActionSubmitted,
    Actor,
    CallbackReceived,
    CancelRequested,
    ChildFinished,
    EffectFailed,
    EffectSucceeded,
    Event,
    RetryRequested,
    Started,
    TimerFired,
)
from app.engine.machine import advance, can_retry, execute, may_act, permitted_actions
from app.engine.model import AUTO, Design, Edge, Node
from app.engine.nodes import NODE_TYPES
from app.engine.recovery import pending_effects, prepare_request
from app.engine.retry import RetryPolicy
from app.engine.serialize import SCHEMA_VERSION, dump_state, load_state, record_to_dict
from app.engine.state import (
    ExecutionRecord,
    Pending,
    RunnerState,
    Slot,
    Status,
    new_state,
    next_due,
)
from app.engine.validation import validate
from app.engine.versions import check_migration, migrate

__all__ = [
    "AUTO", "NODE_TYPES", "SCHEMA_VERSION", "SYSTEM", "ActionSubmitted", "Actor", "AwaitCallback",
    "CallHttp", "CallbackReceived", "CancelRequested", "ChildFinished", "Design", "DesignError",
    "Edge", "Effect", "EffectFailed", "EffectSucceeded", "EngineError", "Event",
    "ExecutionRecord", "Finished", "InvalidInput", "InvalidState", "NoMatchingEdge", "Node",
    "Notify", "OpenApproval", "OpenChecklist", "Pending", "PermissionDenied", "Problem", "Reply",
    "RequestDocuments", "RetryPolicy", "RetryRequested", "RunCode", "RunnerState",
    "ScheduleTimer", "Slot", "StartChild", "Started", "Status", "TimerFired", "Withdraw",
    "WriteExecution", "advance", "can_retry", "check_migration", "clear_cache", "compile_design",
    "design_key", "dump_state", "execute", "load_state", "may_act", "migrate", "new_state",
    "next_due", "pending_effects", "permitted_actions", "prepare_request", "record_to_dict",
    "validate",
]
