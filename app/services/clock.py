"""The services' clock. Tests move it forward to fire timers and retries without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from app.models.base import utcnow

_offset = timedelta(0)


def now() -> datetime:
    """Aware UTC now (plus any offset a test travelled by). Engine transitions use this clock."""
    return utcnow() + _offset


@contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Run the block as if `delta` had passed."""
    global _offset  # noqa: PLW0603  a process-wide test clock is the point
    previous, _offset = _offset, _offset + delta
    try:
        yield
    finally:
        _offset = previous
