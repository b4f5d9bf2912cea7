"""The function allowlist: everything an expression can call, and nothing else."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.visitor import TreeInterpreter

from app.engine.expressions import dates
from app.engine.expressions.crypto import jwt_encode
from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.limits import MAX_STRING_LENGTH, check_length
from app.engine.expressions.values import Lazy, to_text

# ParsedResult.search builds an interpreter per call; it keeps no per-search state, so share one.
_INTERPRETER = TreeInterpreter()


@lru_cache(maxsize=2048)
def compile_jmes(expression: str) -> Any:
    """The parsed JMESPath AST, cached; raises ExpressionError for bad syntax."""
    try:
        return jmespath.compile(expression).parsed
    except Exception as exc:  # the lexer/parser raise several types; all mean "bad syntax"
        raise ExpressionError(f"bad JMESPath '{expression}': {type(exc).__name__}") from None


def jmes(expression: Any, value: Any) -> Any:
    """`jmes('items[?age > `18`].name', data)`: a JMESPath search over plain data."""
    if not isinstance(expression, str):
        raise ExpressionError("jmes: the expression must be a string")
    return _INTERPRETER.visit(compile_jmes(expression), _jsonish(value))


def _jsonish(value: Any) -> Any:
    # JMESPath checks isinstance(dict/list); render our lazy views so they look like plain data.
    return value.materialize() if isinstance(value, Lazy) else value


def uuid4() -> str:
    return str(uuid.uuid4())


def _str(value: Any = "") -> str:
    return check_length(to_text(value), "str")


def _int(value: Any, base: int | None = None) -> int:
    if isinstance(value, str):
        # int('9' * 5000) is quadratic before the digit limit refuses it; refuse earlier.
        if len(value) > 1_000:
            raise ExpressionError("int: text too long to be a number")
        return builtins.int(value, base) if base is not None else builtins.int(value)
    if base is not None:
        raise ExpressionError("int: a base only applies to text")
    return builtins.int(value)


def _float(value: Any) -> float:
    if isinstance(value, str) and len(value) > 1_000:
        raise ExpressionError("float: text too long to be a number")
    return builtins.float(value)


def _bool(value: Any = False) -> bool:
    return builtins.bool(value)


def _len(value: Any) -> int:
    return builtins.len(value)


def _round(value: Any, ndigits: int | None = None) -> Any:
    return builtins.round(value, ndigits)


def _min(*args: Any) -> Any:
    return builtins.min(args[0] if len(args) == 1 else args)


def _max(*args: Any) -> Any:
    return builtins.max(args[0] if len(args) == 1 else args)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"{name}: expected text, got {type(value).__name__}")
    return value


def lower(value: Any) -> str:
    return _text(value, "lower").lower()


def upper(value: Any) -> str:
    return _text(value, "upper").upper()


def strip(value: Any, chars: str | None = None) -> str:
    return _text(value, "strip").strip(chars)


def split(value: Any, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return _text(value, "split").split(sep, maxsplit)


def join(items: Any, sep: str = "") -> str:
    """`join(['a', 'b'], '-')` gives 'a-b'; items read as they would inside a string."""
    if isinstance(items, str | Mapping) or not hasattr(items, "__iter__"):
        raise ExpressionError("join: expected a list")
    parts = [to_text(item) for item in items]
    if builtins.sum(builtins.len(p) for p in parts) > MAX_STRING_LENGTH:
        raise ExpressionError(f"join: result longer than {MAX_STRING_LENGTH} characters")
    return _text(sep, "join").join(parts)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uuid4": uuid4,
    "jwt_encode": jwt_encode,
    "jmes": jmes,
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "len": _len,
    "round": _round,
    "min": _min,
    "max": _max,
    "lower": lower,
    "upper": upper,
    "strip": strip,
    "split": split,
    "join": join,
    **dates.FUNCTIONS,
}
"""Name → callable taking plain values; `now`/`today` are in CLOCK_FUNCTIONS."""

CLOCK_FUNCTIONS = dates.CLOCK_FUNCTIONS
ALL_FUNCTION_NAMES = frozenset(FUNCTIONS) | frozenset(CLOCK_FUNCTIONS)


def signature_target(name: str) -> Callable[..., Any]:
    """The callable whose signature the call site must fit (clock functions: minus the clock)."""
    if name in CLOCK_FUNCTIONS:
        return lambda: None
    return FUNCTIONS[name]


def describe_failure(name: str, exc: BaseException) -> str:
    """A message for a function that raised, without quoting values (they may be secret)."""
    if isinstance(exc, TypeError | ZeroDivisionError | OverflowError | IndexError):
        return f"{name}() failed: {type(exc).__name__}: {_first_line(str(exc))}"
    return f"{name}() failed: {type(exc).__name__} (invalid argument value)"


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else ""

