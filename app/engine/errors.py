"""Domain errors raised by the engine; services translate them, the engine never speaks HTTP."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class EngineError(Exception):
    """Base of every error the engine raises on purpose; `message` is safe to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(EngineError):
    """The actor's roles do not allow this action at this node."""


class NoMatchingEdge(EngineError):
    """No edge of the node has this action with a condition that holds."""

    def __init__(self, node: str, action: str, accepted: Iterable[str]) -> None:
        self.node = node
        self.action = action
        self.accepted = sorted(set(accepted))
        listed = ", ".join(self.accepted) or "none"
        super().__init__(
            f"node '{node}' has no edge for action '{action}' whose condition holds; "
            f"it accepts: {listed}"
        )


class InvalidInput(EngineError):
    """Submitted data failed the node's JSON Schema; `errors` holds `{"path", "message"}` items."""

    def __init__(self, node: str, errors: Sequence[dict[str, str]]) -> None:
        self.node = node
        self.errors = list(errors)
        detail = "; ".join(f"{e['path'] or '(root)'}: {e['message']}" for e in self.errors)
        super().__init__(f"invalid input for node '{node}': {detail}")


class InvalidState(EngineError):
    """The event does not fit the runner right now (wrong node, stale effect, finished runner)."""


class DesignError(EngineError):
    """A design failed validation or cannot host a runner; `problems` lists every finding."""

    def __init__(self, message: str, problems: Sequence[Any] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            message = message + ": " + "; ".join(str(p) for p in self.problems[:20])
        super().__init__(message)
