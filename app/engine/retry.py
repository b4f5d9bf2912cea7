"""Per-node retry policy and its exponential backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

RETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "maximumAttempts": {"type": "integer", "minimum": 1, "maximum": 100},
        "initialInterval": {"type": "number", "minimum": 0, "maximum": 86_400},
        "backoffCoefficient": {"type": "number", "minimum": 1, "maximum": 100},
        "maximumInterval": {"type": "number", "minimum": 0},
    },
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`maximum_attempts` counts the first try; intervals are seconds."""

    maximum_attempts: int = 1
    initial_interval: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval: float | None = None

    @classmethod
    def from_config(cls, raw: dict[str, Any] | None) -> RetryPolicy:
        raw = raw or {}
        return cls(
            maximum_attempts=int(raw.get("maximumAttempts", 1)),
            initial_interval=float(raw.get("initialInterval", 1.0)),
            backoff_coefficient=float(raw.get("backoffCoefficient", 2.0)),
            maximum_interval=raw.get("maximumInterval"),
        )

    def delay(self, failed_attempt: int) -> timedelta:
        """Wait after attempt n failed: initialInterval * backoffCoefficient ** (n - 1)."""
        seconds = self.initial_interval * self.backoff_coefficient ** (failed_attempt - 1)
        if self.maximum_interval is not None:
            seconds = min(seconds, self.maximum_interval)
        return timedelta(seconds=seconds)
