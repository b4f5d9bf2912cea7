"""Date and time functions; every datetime they return is timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from datetime import timedelta as _timedelta
from typing import Any

from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.limits import check_length

Clock = Callable[[], datetime]

# Tried in order after ISO 8601; seed 001 formats with '%Y/%m/%d %H:%M:%S'. Day-first formats
# are deliberately absent (is 03/04 March or April?): pass a format to parse_date instead.
_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DELTA_UNITS = frozenset({"weeks", "days", "hours", "minutes", "seconds", "milliseconds",
                          "microseconds"})


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # Naive means UTC here: designs are written by people, servers run in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def to_datetime(value: Any, fmt: str | None = None) -> datetime:
    """A datetime from a datetime, a date (midnight UTC), epoch seconds or a string."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ExpressionError("epoch seconds out of range") from None
    if not isinstance(value, str):
        raise ExpressionError(f"expected a date, got {type(value).__name__}")
    if fmt is not None:
        if not isinstance(fmt, str):
            raise ExpressionError("the date format must be a string")
        try:
            return _aware(datetime.strptime(value, fmt))
        except ValueError:
            # strptime's message quotes the input, which may be secret: say it without it.
            raise ExpressionError(f"the date does not match the format '{fmt}'") from None
    try:
        return _aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        pass
    for candidate in _FORMATS:
        try:
            return _aware(datetime.strptime(value.strip(), candidate))
        except ValueError:
            continue
    raise ExpressionError("unrecognised date: use ISO 8601 or '%Y/%m/%d %H:%M:%S', "
                          "or parse_date(text, format)")


def now(clock: Clock) -> datetime:
    return _aware(clock())


def today(clock: Clock) -> date:
    return _aware(clock()).date()


def timedelta(value: Any, delta: Any) -> datetime:
    """`value` moved by `{'days': 1, 'minutes': -30, ...}`."""
    if not isinstance(delta, Mapping):
        raise ExpressionError("timedelta needs a dict such as {'minutes': 30}")
    amounts: dict[str, float] = {}
    for unit in delta:
        if unit not in _DELTA_UNITS:
            raise ExpressionError(f"timedelta: unknown unit '{unit}' "
                                  f"(use {', '.join(sorted(_DELTA_UNITS))})")
        amount = delta[unit]
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ExpressionError(f"timedelta: '{unit}' must be a number")
        amounts[unit] = amount
    try:
        return to_datetime(value) + _timedelta(**amounts)
    except OverflowError:
        raise ExpressionError("timedelta: date out of range") from None


def strftime(value: Any, fmt: Any) -> str:
    if not isinstance(fmt, str):
        raise ExpressionError("strftime: the format must be a string")
    check_length(fmt, "strftime")
    try:
        return to_datetime(value).strftime(fmt)
    except ValueError:
        raise ExpressionError(f"strftime: cannot format with '{fmt}'") from None


def date_to_epoch(value: Any) -> int:
    """Whole seconds since 1970-01-01 UTC (naive dates and strings count as UTC)."""
    return int(to_datetime(value).timestamp())


def parse_date(value: Any, fmt: str | None = None) -> datetime:
    return to_datetime(value, fmt)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "timedelta": timedelta,
    "strftime": strftime,
    "date_to_epoch": date_to_epoch,
    "parse_date": parse_date,
}
CLOCK_FUNCTIONS: dict[str, Callable[..., Any]] = {"now": now, "today": today}
"""Functions that receive the render's clock as their first argument."""
