"""The node type registry: each type brings a config schema, a compiler and its handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from app.engine.compiling import Collector

if TYPE_CHECKING:
    from app.engine.effects import Effect
    from app.engine.machine import Run
    from app.engine.model import Node
    from app.engine.state import Pending, Slot


class NodeFailure(Exception):
    """Raised by a handler: the node's attempt failed (retry, fallback or runner failure follow)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


Enter = Callable[["Run", "Slot", "Node"], None]
Resume = Callable[["Run", "Slot", "Node", Any], None]
Derive = Callable[["Run", "Slot", "Node", "Pending"], "Effect"]


@dataclass(frozen=True)
class NodeType:
    """How one node type behaves.

    `mode` is `auto` (finishes in the same step), `effect` (waits for a service's result) or
    `wait` (waits for people, outside systems, timers or branches). Only `auto` nodes count for
    the automatic-cycle check. `resume` receives the successful result of the node's pending work;
    `derive` rebuilds that work's effect from state after a restart.
    """

    name: str
    schema: dict[str, Any]
    mode: str
    enter: Enter
    prepare: Callable[[dict[str, Any], Collector], Any] = lambda config, col: None
    resume: Resume | None = None
    derive: Derive | None = None
    accepts_actions: bool = False
    may_use_secrets: bool = False
    # The node's actions come only from the service that owns its request (approvals, checklists,
    # documents), as a system actor: that service keeps the rules a direct action would skip
    # (maker-checker, levels, required items, required files), so people's permissions never apply
    # here. `decided_through` says where that happens, for the refusal.
    service_decides: bool = False
    decided_through: str = ""


NODE_TYPES: dict[str, NodeType] = {}


def register(node_type: NodeType) -> NodeType:
    """Add a node type; a design may then use its name."""
    NODE_TYPES[node_type.name] = node_type
    return node_type


def obj(properties: dict[str, Any], *, required: tuple[str, ...] = (), **extra: Any) -> dict:
    """A closed JSON Schema object: unknown config keys are typos, not extensions."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False, **extra}


TEMPLATED_STR = {"type": "string"}
FORMATS = FormatChecker()
ANY: dict[str, Any] = {}


def compile_schema(schema: Any, col: Collector, field: str) -> Draft202012Validator | None:
    """A JSON Schema from a design, checked against the metaschema once."""
    if schema is None:
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        col.add("bad_config", f"not a valid JSON Schema: {err.message}", field)
        return None
    # Formats ("date", "email") are assertions here, as on the onboarding page: "1990-13-45" is
    # not a date whichever door the data came in by.
    return Draft202012Validator(schema, format_checker=FORMATS)


def schema_errors(validator: Draft202012Validator, data: Any) -> list[dict[str, str]]:
    """Every JSON Schema error as `{"path", "message"}`, a missing field named in its path."""
    found: dict[tuple[str, str], None] = {}
    for err in validator.iter_errors(data):
        parts = [str(p) for p in err.absolute_path]
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    found[(".".join([*parts, str(name)]), "is required")] = None
            continue
        found[(".".join(parts), err.message)] = None
    return [{"path": path, "message": msg} for path, msg in sorted(found)]
