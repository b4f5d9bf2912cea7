"""The expression and template language of the engine: `${...}` over plain JSON data.

Placeholders
    A string holding `${expr}` is a template; dicts and lists are walked, keys never are. A
    string that is exactly one `${expr}` (or `${expr}.safe_eval`, seed 001's spelling of the
    same thing) renders to the value itself; text around or between placeholders renders to a
    string, values reading as in JSON (None → "", True → "true", dicts → compact JSON) and
    datetimes as ISO 8601. `$${` is a literal `${`.
Look-ups
    `store.applicant.pan`, `data.items.0.x` (a number indexes a list), `SECRET.idfc.key`,
    `x['key']`, `x[0]`: a missing key or index, or a look-up into None or a scalar, is None;
    it never fails. Roots are `CONTEXT_NAMES`; context values are plain data or any Mapping
    (read with `[key]` only, never enumerated). Keys starting with `__` are refused.
Expressions
    Anything else runs in simpleeval: arithmetic, comparisons, `and/or/not`, `x if c else y`,
    dict/list literals and calls of the functions in `functions.FUNCTIONS` (plus `now`,
    `today`) with positional arguments. No methods, attributes (`a.b` is a key look-up),
    lambdas, comprehensions, f-strings or imports. Sizes are capped (see `limits`).
Errors
    Bad syntax, unknown names/functions, wrong argument counts and bad `jmes('...')` literals
    fail at compile time; every render-time failure is an ExpressionError too, and no error
    message ever quotes a context value.
"""

from __future__ import annotations

from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.lazy import LazyParams
from app.engine.expressions.parser import CONTEXT_NAMES, CompiledExpression, compile_expression
from app.engine.expressions.template import (
    CompiledTemplate,
    check_template,
    compile_template,
    render_template,
)
from app.engine.expressions.values import MASK

__all__ = [
    "CONTEXT_NAMES",
    "MASK",
    "CompiledExpression",
    "CompiledTemplate",
    "ExpressionError",
    "LazyParams",
    "check_template",
    "compile_expression",
    "compile_template",
    "render_template",
]
