"""Compiling one expression: a dotted-path fast path, or a validated AST for the evaluator."""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import re
import tokenize
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from app.engine.expressions.dates import utc_now
from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.evaluator import EVALUATED_NODES, Evaluator
from app.engine.expressions.functions import ALL_FUNCTION_NAMES, compile_jmes, signature_target
from app.engine.expressions.limits import MAX_DEPTH, MAX_SOURCE_LENGTH, OPERATORS
from app.engine.expressions.renderenv import CURRENT, Env
from app.engine.expressions.values import Lazy, deep_plain, resolve

CONTEXT_NAMES: frozenset[str] = frozenset(
    {"data", "store", "params", "SECRET", "RUNNER_ID", "runner", "env"})
"""The root names an expression may use; anything else is an unknown name at compile time."""

_PATH = re.compile(r"[A-Za-z_]\w*(?:\.(?:[A-Za-z_]\w*|\d+))*", re.ASCII)
_DOT_INDEX = re.compile(r"\.\d+")
_ALLOWED = EVALUATED_NODES | frozenset(OPERATORS) | {ast.Expression, ast.Load, ast.And, ast.Or}
_REFUSED = {
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.NamedExpr: "assignment is not allowed",
    ast.Starred: "* unpacking is not allowed",
    ast.Set: "sets are not allowed",
    ast.LShift: "bit shifts are not allowed",
    ast.RShift: "bit shifts are not allowed",
    ast.MatMult: "the @ operator is not allowed",
}
_SIGNATURES = {name: inspect.signature(signature_target(name)) for name in ALL_FUNCTION_NAMES}


class CompiledExpression:
    """A parsed expression, safe to share between threads and renders.

    `names` are the context roots it reads; `uses_secrets` whether one of them is SECRET.
    A look-up of a missing key or index gives None (see `values.step`), it never fails.
    """

    __slots__ = ("_segments", "_tree", "names", "root", "source", "uses_secrets")

    def __init__(self, source: str, names: frozenset[str], *, tree: ast.expr | None = None,
                 root: str | None = None, segments: tuple[tuple[str, int | None], ...] = ()
                 ) -> None:
        self.source = source
        self.names = names
        self.uses_secrets = "SECRET" in names
        self.root = root  # set for a plain dotted path, the fast path
        self._segments = segments
        self._tree = tree

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(self, context: Mapping[str, Any], *,
                 clock: Callable[[], datetime] | None = None) -> Any:
        """The value, with params views rendered; raises only ExpressionError."""
        if "params" not in self.names:
            # Nothing lazy to hand the clock to: skip the ContextVar (a third of the cost).
            return self._finish(self.raw(context, clock or utc_now))
        env = CURRENT.get() or Env(clock=clock)
        token = CURRENT.set(env)
        try:
            return self._finish(self.raw(context, env.clock if clock is None else clock))
        finally:
            CURRENT.reset(token)

    def _finish(self, value: Any) -> Any:
        if self.root is not None:  # a look-up: only the value itself can be a params view
            return value.materialize() if isinstance(value, Lazy) else value
        return deep_plain(value)

    def raw(self, context: Mapping[str, Any], clock: Callable[[], datetime]) -> Any:
        """The value as computed (params views unrendered); for the template renderer."""
        try:
            if self.root is not None:
                return resolve(context, self.root, self._segments)
            return Evaluator(context, clock)._eval(self._tree)
        except ExpressionError as exc:
            raise exc.located(expression=self.source) from None
        except RecursionError:
            raise ExpressionError("expression nests too deeply", expression=self.source) from None
        except Exception as exc:
            # Only the type and, for TypeError-like errors, CPython's message (types, never
            # values) are reported: a ValueError message may quote a secret.
            detail = f": {str(exc).splitlines()[0][:200]}" if isinstance(
                exc, TypeError | ZeroDivisionError | OverflowError) and str(exc) else ""
            raise ExpressionError(f"{type(exc).__name__}{detail}",
                                  expression=self.source) from None


def compile_expression(src: str) -> CompiledExpression:
    """Parse and validate a bare expression (no `${}`), cached; raises ExpressionError."""
    if not isinstance(src, str):
        raise ExpressionError("an expression must be a string")
    return _compile_cached(src)


@lru_cache(maxsize=4096)
def _compile_cached(src: str) -> CompiledExpression:
    try:
        return _compile(src.strip())
    except ExpressionError as exc:
        raise exc.located(expression=src) from None


def _compile(src: str) -> CompiledExpression:
    if not src:
        raise ExpressionError("empty expression")
    if len(src) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_SOURCE_LENGTH} characters")
    if _PATH.fullmatch(src) and src not in ("True", "False", "None"):
        return _compile_path(src)
    tree = _parse(_index_segments(src))
    names = _validate(tree)
    return CompiledExpression(src, names, tree=tree.body)


def _compile_path(src: str) -> CompiledExpression:
    root, *rest = src.split(".")
    _check_name(root)
    if root == "SECRET" and not rest:
        raise ExpressionError("SECRET must be followed by a key, e.g. SECRET.vendor.api_key")
    for key in rest:
        if key.startswith("__"):
            raise ExpressionError(f"names starting with '__' are not allowed ({key})")
    segments = tuple((key, int(key) if key.isdigit() else None) for key in rest)
    return CompiledExpression(src, frozenset({root}), root=root, segments=segments)


def _check_name(name: str) -> None:
    if name not in CONTEXT_NAMES:
        raise ExpressionError(
            f"unknown name '{name}' (use {', '.join(sorted(CONTEXT_NAMES))})")


def _parse(src: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            # "'is' with a literal" and friends: harmless, and pytest would make them errors.
            warnings.simplefilter("ignore")
            return ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise ExpressionError("expression cannot be parsed (too complex or invalid)") from None


def _index_segments(src: str) -> str:
    """Rewrite `items.0.x` as `items[0].x` so paths read the same inside larger expressions."""
    if not _DOT_INDEX.search(src):
        return src
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except Exception:  # tokenize has several failure types; the parser will report properly
        return src
    starts = [0]
    for line in io.StringIO(src).readlines():
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    previous: tokenize.TokenInfo | None = None
    chained = False
    for tok in tokens:
        follows = previous is not None and previous.end == tok.start and (
            chained
            or (previous.type == tokenize.NAME and not keyword.iskeyword(previous.string))
            or (previous.type == tokenize.OP and previous.string in ")]"))
        chained = bool(tok.type == tokenize.NUMBER and _DOT_INDEX.fullmatch(tok.string)
                       and follows)
        if chained:
            (row, col), (end_row, end_col) = tok.start, tok.end
            edits.append((starts[row - 1] + col, starts[end_row - 1] + end_col,
                          f"[{tok.string[1:]}]"))
        previous = tok
    for start, end, text in reversed(edits):
        src = src[:start] + text + src[end:]
    return src


def _validate(tree: ast.Expression) -> frozenset[str]:
    """Refuse anything outside the language; returns the root names used."""
    names: set[str] = set()
    keyed: set[int] = set()  # Name nodes followed by a look-up (SECRET must be)
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:  # iterative: the tree's depth is what is being checked
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
        if type(node) not in _ALLOWED:
            raise ExpressionError(_REFUSED.get(type(node), f"{type(node).__name__} is not allowed"))
        children: list[ast.AST] = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name):
            _check_name(node.id)
            names.add(node.id)
            if node.id == "SECRET" and id(node) not in keyed:
                raise ExpressionError("SECRET must be followed by a key, e.g. SECRET.vendor.key")
        elif isinstance(node, ast.Attribute | ast.Subscript):
            keyed.add(id(node.value))
            attr = node.attr if isinstance(node, ast.Attribute) else ""
            if attr.startswith("__"):
                raise ExpressionError(f"names starting with '__' are not allowed ({attr})")
        elif isinstance(node, ast.Call):
            _check_call(node)
            children = list(node.args)  # not node.func: a function is not a context name
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float | bool | None):
                raise ExpressionError(f"{type(node.value).__name__} literals are not allowed")
        elif isinstance(node, ast.Dict) and None in node.keys:
            raise ExpressionError("** unpacking is not allowed")
        stack.extend((child, depth + 1) for child in children)
    return frozenset(names)


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only functions can be called, not methods: write lower(x), "
                              "not x.lower()")
    name = node.func.id
    if name not in ALL_FUNCTION_NAMES:
        raise ExpressionError(f"unknown function '{name}'")
    if node.keywords:
        raise ExpressionError(f"{name}(): keyword arguments are not supported")
    try:
        _SIGNATURES[name].bind(*node.args)
    except TypeError:
        raise ExpressionError(f"{name}() does not take {len(node.args)} argument(s)") from None
    if name == "jmes" and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            compile_jmes(first.value)  # bad JMESPath fails at design save, not mid-run
