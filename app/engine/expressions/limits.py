"""Size limits and the bounded arithmetic operators that enforce them."""

from __future__ import annotations

import ast
import operator as op
from collections.abc import Callable
from typing import Any

from app.engine.expressions.errors import ExpressionError

# Every limit is checked before the work is done, so a hostile design costs microseconds.
MAX_SOURCE_LENGTH = 8_192  # characters inside one ${...} or one bare expression
MAX_DEPTH = 64  # AST nesting; Python's own parser and our walkers recurse
MAX_STRING_LENGTH = 100_000  # longest string/list an expression may build (`'a' * n`, join)
MAX_INT_BITS = 10_000  # largest integer `**` or `*` may build (~3,000 digits)
MAX_PARAMS_DEPTH = 16  # params referring to params referring to params...: a cycle, surely


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple | bytes) else None


def safe_add(a: Any, b: Any) -> Any:
    la, lb = _sized(a), _sized(b)
    if la is not None and lb is not None and la + lb > MAX_STRING_LENGTH:
        raise ExpressionError(f"result longer than {MAX_STRING_LENGTH} items")
    return a + b


def safe_mult(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        size = _sized(seq)
        if size is not None and isinstance(times, int) and size * times > MAX_STRING_LENGTH:
            raise ExpressionError(f"result longer than {MAX_STRING_LENGTH} items")
    if (isinstance(a, int) and isinstance(b, int)
            and a.bit_length() + b.bit_length() > MAX_INT_BITS):
        raise ExpressionError(f"integer larger than {MAX_INT_BITS} bits")
    return a * b


def safe_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        # bit_length * exponent bounds the result's size without computing it.
        if a.bit_length() * b > MAX_INT_BITS:
            raise ExpressionError(f"integer larger than {MAX_INT_BITS} bits")
    elif isinstance(b, int) and abs(b) > MAX_INT_BITS and not isinstance(a, float):
        raise ExpressionError("exponent too large")
    result = a**b
    if isinstance(result, complex):  # (-8) ** 0.5: JSON has no complex numbers
        raise ExpressionError("the result is not a real number")
    return result


def safe_mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        # '%0999999999d' % 1 would build a gigabyte; and formatting is what strftime is for.
        raise ExpressionError("'%' string formatting is not supported")
    return a % b


def _contains(container: Any, item: Any) -> bool:
    return item in container


def _not_contains(container: Any, item: Any) -> bool:
    return item not in container


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: safe_add,
    ast.Sub: op.sub,
    ast.Mult: safe_mult,
    ast.Div: op.truediv,
    ast.FloorDiv: op.floordiv,
    ast.Mod: safe_mod,
    ast.Pow: safe_pow,
    ast.BitAnd: op.and_,
    ast.BitOr: op.or_,
    ast.BitXor: op.xor,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Lt: op.lt,
    ast.LtE: op.le,
    ast.Gt: op.gt,
    ast.GtE: op.ge,
    ast.In: lambda x, y: _contains(y, x),
    ast.NotIn: lambda x, y: _not_contains(y, x),
    ast.Is: lambda x, y: x is y,
    ast.IsNot: lambda x, y: x is not y,
    ast.Not: op.not_,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
    ast.Invert: op.invert,
}
"""Operators by AST node type. Shifts are left out: `1 << 10**9` is a cheap way to a huge int."""


def check_length(value: Any, what: str) -> Any:
    """Refuse a built string/list longer than MAX_STRING_LENGTH; returns it otherwise."""
    size = _sized(value)
    if size is not None and size > MAX_STRING_LENGTH:
        raise ExpressionError(f"{what}: result longer than {MAX_STRING_LENGTH} items")
    return value
