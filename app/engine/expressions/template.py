"""Templates: JSON values whose strings hold `${...}` placeholders, compiled once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.parser import CompiledExpression, compile_expression
from app.engine.expressions.renderenv import CURRENT, Env
from app.engine.expressions.scanner import Placeholder, scan, whole_placeholder
from app.engine.expressions.values import MASK, to_output, to_text

MAX_TEMPLATE_DEPTH = 100  # nesting of the JSON itself; the compiler recurses over it


class Node:
    """A compiled piece of a template; `render` returns a fresh JSON-ready value."""

    __slots__ = ()

    def render(self, ctx: Mapping[str, Any], env: Env) -> Any:
        raise NotImplementedError


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def render(self, ctx: Mapping[str, Any], env: Env) -> Any:
        return to_output(self.value)  # a copy: callers may mutate what they get


def _value(expr: CompiledExpression, ctx: Mapping[str, Any], env: Env) -> Any:
    if not env.masked:
        return expr.raw(ctx, env.clock)
    if expr.uses_secrets:
        env.hits += 1  # masked without evaluating: SECRET is never read
        return MASK
    before = env.hits
    value = to_output(expr.raw(ctx, env.clock))
    if env.hits != before and expr.root is None:
        return MASK  # it computed on a masked params value: the result means nothing
    return value


class Raw(Node):
    """A string that is exactly one placeholder: renders to the value itself, not its text."""

    __slots__ = ("expr", "path")

    def __init__(self, expr: CompiledExpression, path: str) -> None:
        self.expr = expr
        self.path = path

    def render(self, ctx: Mapping[str, Any], env: Env) -> Any:
        try:
            return to_output(_value(self.expr, ctx, env))
        except ExpressionError as exc:
            raise exc.located(path=self.path) from None


class Text(Node):
    """Literal text with placeholders: renders to a string (see `values.to_text`)."""

    __slots__ = ("parts", "path")

    def __init__(self, parts: tuple[str | CompiledExpression, ...], path: str) -> None:
        self.parts = parts
        self.path = path

    def render(self, ctx: Mapping[str, Any], env: Env) -> str:
        try:
            return "".join(part if type(part) is str else to_text(_value(part, ctx, env))
                           for part in self.parts)
        except ExpressionError as exc:
            raise exc.located(path=self.path) from None


class DictNode(Node):
    __slots__ = ("children",)

    def __init__(self, children: dict[Any, Node]) -> None:
        self.children = children

    def render(self, ctx: Mapping[str, Any], env: Env) -> dict[Any, Any]:
        return {key: child.render(ctx, env) for key, child in self.children.items()}


class ListNode(Node):
    __slots__ = ("children",)

    def __init__(self, children: list[Node]) -> None:
        self.children = children

    def render(self, ctx: Mapping[str, Any], env: Env) -> list[Any]:
        return [child.render(ctx, env) for child in self.children]


class CompiledTemplate:
    """A template parsed once; render it as often as needed, from any thread.

    `names`: the context roots its placeholders read. `uses_secrets`: whether one of them
    reads SECRET directly (reading it through `params` cannot be known before rendering).
    """

    __slots__ = ("names", "root", "uses_secrets")

    def __init__(self, root: Node, names: frozenset[str]) -> None:
        self.root = root
        self.names = names
        self.uses_secrets = "SECRET" in names

    def render(self, context: Mapping[str, Any], *, masked: bool = False,
               clock: Callable[[], datetime] | None = None) -> Any:
        """The rendered JSON value; raises only ExpressionError (with `.path` set).

        masked=True shows every placeholder that reads SECRET (directly, or through params
        that do) as '********' without reading SECRET at all: for displaying inputs.
        """
        if type(self.root) is Const:
            return self.root.render(context, _PLAIN)
        env = Env(masked, clock)
        if not masked and "params" not in self.names:
            return self.root.render(context, env)  # nothing lazy will look for the Env
        token = CURRENT.set(env)
        try:
            return self.root.render(context, env)
        finally:
            CURRENT.reset(token)


_PLAIN = Env()


class _Compiler:
    def __init__(self) -> None:
        self.errors: list[ExpressionError] = []
        self.names: set[str] = set()

    def node(self, value: Any, path: str, depth: int) -> Node:
        if depth > MAX_TEMPLATE_DEPTH:
            self.errors.append(ExpressionError(
                f"template nests deeper than {MAX_TEMPLATE_DEPTH} levels", path=path))
            return Const(None)
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, dict):
            children = {k: self.node(v, f"{path}.{k}" if path else str(k), depth + 1)
                        for k, v in value.items()}
            return _folded(DictNode(children))
        if isinstance(value, list | tuple):
            items = [self.node(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
            return _folded(ListNode(items))
        return Const(value)

    def string(self, text: str, path: str) -> Node:
        if "${" not in text:
            return Const(text)
        try:
            whole = whole_placeholder(text)
            if whole is not None:
                return Raw(self.expression(whole), path)
            parts = tuple(self.expression(p) if isinstance(p, Placeholder) else p
                          for p in scan(text))
        except ExpressionError as exc:
            self.errors.append(exc.located(path=path))
            return Const(text)
        if len(parts) == 1 and isinstance(parts[0], str):
            return Const(parts[0])  # only escaped "$${" in it
        return Text(parts, path)

    def expression(self, source: str) -> CompiledExpression:
        expr = compile_expression(source)
        self.names |= expr.names
        return expr


def _folded(node: DictNode | ListNode) -> Node:
    """A container with nothing to render becomes one constant (rendered by copying)."""
    if isinstance(node, DictNode):
        if all(isinstance(child, Const) for child in node.children.values()):
            return Const({k: c.value for k, c in node.children.items()
                          if isinstance(c, Const)})
        return node
    if all(isinstance(child, Const) for child in node.children):
        return Const([c.value for c in node.children if isinstance(c, Const)])
    return node


def _build(value: Any, path: str) -> tuple[CompiledTemplate, list[ExpressionError]]:
    compiler = _Compiler()
    root = compiler.node(value, path, 0)
    return CompiledTemplate(root, frozenset(compiler.names)), compiler.errors


def compile_template(value: Any, *, path: str = "") -> CompiledTemplate:
    """Compile every `${...}` in a JSON value (keys are not templated); raises the first
    ExpressionError, with `.path` the JSON path of the string (prefixed by `path`)."""
    template, errors = _build(value, path)
    if errors:
        raise errors[0]
    return template


def check_template(value: Any, *, path: str = "") -> list[ExpressionError]:
    """Every problem in a template (one per bad string), for design validation."""
    return _build(value, path)[1]


def render_template(value: Any, context: Mapping[str, Any], **kw: Any) -> Any:
    """Compile (cached by the template's JSON text) and render; same errors as both."""
    if isinstance(value, str):
        return _compile_text(value).render(context, **kw)
    try:
        key = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # not JSON (mixed key types...): compile without the cache
        return compile_template(value).render(context, **kw)
    return _compile_json(key).render(context, **kw)


@lru_cache(maxsize=1024)
def _compile_text(text: str) -> CompiledTemplate:
    return compile_template(text)


@lru_cache(maxsize=512)
def _compile_json(key: str) -> CompiledTemplate:
    return compile_template(json.loads(key))
