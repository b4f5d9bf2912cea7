"""Per-render settings (masking, clock) that lazily rendered params must inherit."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime

from app.engine.expressions.dates import utc_now


class Env:
    """One render's settings. `hits` counts masked values produced, so an expression that
    consumed a masked value can be masked as a whole instead of computing on '********'."""

    __slots__ = ("clock", "depth", "hits", "masked")

    def __init__(self, masked: bool = False, clock: Callable[[], datetime] | None = None) -> None:
        self.masked = masked
        self.clock = clock or utc_now
        self.hits = 0
        self.depth = 0


# Lazy params are Mappings (no way to pass the Env through __getitem__), so the render that
# reads them publishes its Env here. A ContextVar keeps threads and nested renders apart.
CURRENT: ContextVar[Env | None] = ContextVar("flowdesk_expression_env", default=None)
