"""Take credentials a call sent back out of what it answered, before the answer is stored.

A vendor (or a test endpoint) may echo the request: its headers, its body, a login it received.
Whatever an ``api_call`` answers can be mapped into the runner's store and shows in its
executions, where every staff reader sees it. So the strings we sent that came from secrets (or
from a login made with them) are replaced by ``MASK`` wherever they appear in the answer.

Long values are replaced wherever they occur inside a string; a value shorter than
``MIN_SUBSTRING`` only where a whole string (or a number) equals it, since replacing every "12"
inside an answer would corrupt it while a short secret is no secret to begin with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# The engine's mask: `derived_part` finds it in the engine's masked rendering of a request, and
# answers show the same mark where a secret was taken out.
from app.engine.expressions import MASK

MIN_SUBSTRING = 6


def leaves(value: Any) -> Iterator[Any]:
    """Every scalar (string, number) inside `value`, a JSON-like value."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield value


def derived_part(sent: str, masked: str) -> str:
    """The part of `sent` a masked rendering of the same template hid: "Bearer abc123" against
    "Bearer ********" is "abc123"; a string wholly derived from a secret is itself."""
    if MASK not in masked:
        return ""
    head, _, tail = masked.partition(MASK)
    tail = tail.rpartition(MASK)[2] if MASK in tail else tail
    if sent.startswith(head) and sent.endswith(tail) and len(head) + len(tail) < len(sent):
        return sent[len(head):len(sent) - len(tail)]
    return sent


class Redactor:
    """Replaces the given sensitive values inside JSON-like answers."""

    def __init__(self, values: Iterable[Any]) -> None:
        whole: set[Any] = set()
        inner: set[str] = set()
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_SUBSTRING:
                inner.add(value)
            elif value not in (None, "") and not isinstance(value, bool):
                whole.add(value if isinstance(value, str) else str(value))
        self._whole = frozenset(whole)
        self._inner = sorted(inner, key=len, reverse=True)  # longest first: no half-replaced value

    def __bool__(self) -> bool:
        return bool(self._whole or self._inner)

    def __call__(self, value: Any) -> Any:
        if not self:
            return value
        return self._redact(value)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {self._redact(key): self._redact(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact(item) for item in value]
        if isinstance(value, bool) or value is None:
            return value
        if not isinstance(value, str):
            return MASK if str(value) in self._whole else value
        if value in self._whole:
            return MASK
        for secret in self._inner:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
