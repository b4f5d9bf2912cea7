"""Turning design text into parsed, reusable pieces while collecting every problem found."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.visitor import TreeInterpreter

from app.engine.expressions import (
    CompiledExpression,
    CompiledTemplate,
    ExpressionError,
    check_template,
    compile_expression,
    compile_template,
)
from app.engine.expressions.values import Lazy

# One shared interpreter: ParsedResult.search() builds a new one per call, which costs more than
# a simple look-up itself. It keeps no per-search state, so sharing it is safe.
_INTERPRETER = TreeInterpreter()


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding, located by node name, edge index and field path."""

    code: str
    message: str
    node: str | None = None
    edge: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [f"node '{self.node}'"] if self.node is not None else []
        if self.edge is not None:
            where.append(f"edge {self.edge}")
        if self.field:
            where.append(self.field)
        return f"{' '.join(where) or 'design'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "node": self.node,
                "edge": self.edge, "field": self.field}


class Collector:
    """Problems gathered while compiling, at the current node/edge location."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.node: str | None = None
        self.edge: int | None = None
        self.allow_secrets = True

    def add(self, code: str, message: str, field: str | None = None, *,
            node: str | None = None, edge: int | None = None) -> None:
        self.problems.append(Problem(code, message, node if node is not None else self.node,
                                     edge if edge is not None else self.edge, field))

    def template(self, value: Any, field: str) -> CompiledTemplate | None:
        errors = check_template(value, path=field)
        for err in errors:
            self.add("bad_template", err.message, err.path or field)
        if errors:
            return None
        try:
            compiled = compile_template(value, path=field)
        except ExpressionError as err:  # check_template and compile should agree; stay safe
            self.add("bad_template", err.message, err.path or field)
            return None
        if compiled.uses_secrets and not self.allow_secrets:
            # Anything rendered here may be stored or shown; only api_call renders at perform time.
            self.add("secret_outside_api_call", "SECRET may only be used in params and api_call",
                     field)
        return compiled

    def expression(self, src: str, field: str) -> CompiledExpression | None:
        try:
            return compile_expression(src)
        except ExpressionError as err:
            self.add("bad_condition", err.message, field)
            return None

    def jmes(self, src: str, field: str) -> JmesPath | None:
        try:
            ast = jmespath.compile(src).parsed
        except JMESPathError as err:
            self.add("bad_jmespath", f"JMESPath does not parse: {err}", field)
            return None
        return JmesPath(src, ast, _field_chain(ast))

    def jmes_tree(self, value: Any, field: str) -> Any:
        """String leaves become JMESPath look-ups; other leaves stay literal."""
        if isinstance(value, str):
            return self.jmes(value, field)
        if isinstance(value, dict):
            return {k: self.jmes_tree(v, f"{field}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.jmes_tree(v, f"{field}[{i}]") for i, v in enumerate(value)]
        return value

    def mapping(self, spec: Mapping[str, Any] | None, field: str) -> DataMapping | None:
        """Compile a `{data, transformer}` block (edge return, transform node)."""
        if not spec:
            return None
        transformer = spec.get("transformer", "jmes")
        data = spec.get("data", {})
        if transformer == "jmes":
            return DataMapping(tree=self.jmes_tree(data, f"{field}.data"))
        if transformer == "template":
            return DataMapping(template=self.template(data, f"{field}.data"))
        self.add("bad_config", f"unknown transformer '{transformer}' (use jmes or template)",
                 f"{field}.transformer")
        return None


def _field_chain(ast: dict[str, Any]) -> tuple[str, ...] | None:
    """`a.b.c` as ("a", "b", "c"); None for anything that needs the full interpreter."""
    if ast["type"] == "field":
        return (ast["value"],)
    if ast["type"] == "subexpression":
        chain: tuple[str, ...] = ()
        for child in ast["children"]:
            part = _field_chain(child)
            if part is None:
                return None
            chain += part
        return chain
    return None


@dataclass(frozen=True, slots=True)
class JmesPath:
    """A parsed JMESPath expression; `search` never raises anything but ExpressionError."""

    source: str
    ast: dict[str, Any]
    chain: tuple[str, ...] | None = None  # plain dotted look-ups skip the interpreter

    def search(self, value: Any) -> Any:
        if self.chain is not None:
            for key in self.chain:
                try:
                    value = value.get(key)
                except AttributeError:  # JMESPath: a field of a non-object is null
                    return None
            return value.materialize() if isinstance(value, Lazy) else value
        try:
            found = _INTERPRETER.visit(self.ast, value)
        except JMESPathError as err:
            raise ExpressionError(f"JMESPath '{self.source}' failed: {err}") from None
        # A look-up into params yields lazy views; the store must only get plain JSON.
        return found.materialize() if isinstance(found, Lazy) else found


def _walk(tree: Any, ctx: Any) -> Any:
    kind = type(tree)
    if kind is JmesPath:
        return tree.search(ctx)
    if kind is dict:
        return {k: _walk(v, ctx) for k, v in tree.items()}
    if kind is list:
        return [_walk(v, ctx) for v in tree]
    return tree


@dataclass(frozen=True, slots=True)
class DataMapping:
    """Compiled `{data, transformer}`: JMESPath leaves over the context, or a template."""

    tree: Any = None
    template: CompiledTemplate | None = None

    def apply(self, ctx: Mapping[str, Any], clock: Callable[[], datetime] | None = None) -> Any:
        if self.template is not None:
            return self.template.render(ctx, clock=clock)
        return _walk(self.tree, ctx)
