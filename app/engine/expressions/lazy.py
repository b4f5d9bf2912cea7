"""`LazyParams`: a design's params template as a Mapping that renders leaves on access."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from app.engine.expressions.errors import ExpressionError
from app.engine.expressions.limits import MAX_PARAMS_DEPTH
from app.engine.expressions.renderenv import CURRENT, Env
from app.engine.expressions.template import (
    CompiledTemplate,
    Const,
    DictNode,
    ListNode,
    Node,
    compile_template,
)
from app.engine.expressions.values import Lazy, to_output

ContextFactory = Callable[[], Mapping[str, Any]]


def _render(node: Node, factory: ContextFactory) -> Any:
    # Inherit the render that is reading params (its mask and clock); outside any render
    # (a service reading params directly) use a plain one.
    env = CURRENT.get()
    token = None
    if env is None:
        env = Env()
        token = CURRENT.set(env)
    if env.depth >= MAX_PARAMS_DEPTH:
        raise ExpressionError(f"params refer to params more than {MAX_PARAMS_DEPTH} levels "
                              "deep: is there a cycle?")
    env.depth += 1
    try:
        return node.render(factory(), env)
    finally:
        env.depth -= 1
        if token is not None:
            CURRENT.reset(token)


def _wrap(node: Node, factory: ContextFactory) -> Any:
    if isinstance(node, DictNode):
        return _MappingView(node, factory)
    if isinstance(node, ListNode):
        return _ListView(node, factory)
    return _render(node, factory)


class _MappingView(Lazy, Mapping[Any, Any]):
    """A dict of the params template: nested containers stay lazy, leaves render on access."""

    __slots__ = ("_factory", "_node")

    def __init__(self, node: DictNode | Const, factory: ContextFactory) -> None:
        self._node = node  # a Const when the whole dict has nothing to render
        self._factory = factory

    def __getitem__(self, key: Any) -> Any:
        node = self._node
        if isinstance(node, DictNode):
            return _wrap(node.children[key], self._factory)
        return to_output(node.value[key])

    def _keys(self) -> Mapping[Any, Any]:
        node = self._node
        return node.children if isinstance(node, DictNode) else node.value

    def __contains__(self, key: object) -> bool:
        return key in self._keys()  # without rendering the value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def materialize(self) -> Any:
        return _render(self._node, self._factory)

    def __repr__(self) -> str:
        return f"<lazy params {list(self._keys())!r}>"


class _ListView(Lazy, Sequence[Any]):
    __slots__ = ("_factory", "_node")

    def __init__(self, node: ListNode, factory: ContextFactory) -> None:
        self._node = node
        self._factory = factory

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.materialize()[index]
        return _wrap(self._node.children[index], self._factory)

    def __len__(self) -> int:
        return len(self._node.children)

    def materialize(self) -> Any:
        return _render(self._node, self._factory)


class LazyParams(_MappingView):
    """The design's params, rendered against the runner's context as they are read.

    `context_factory()` returns that context (which holds this object as `params`, hence a
    factory). Each read renders afresh (`${uuid4()}` differs per read) under the reading
    render's mask and clock; a whole block read as `${params.block}` is rendered in full.
    A missing top-level key raises KeyError like any Mapping (templates see None).
    """

    __slots__ = ()

    def __init__(self, compiled_params: CompiledTemplate | Mapping[str, Any] | None,
                 context_factory: ContextFactory) -> None:
        if not isinstance(compiled_params, CompiledTemplate):
            compiled_params = compile_template(compiled_params or {}, path="params")
        root = compiled_params.root
        if isinstance(root, DictNode) or (isinstance(root, Const) and isinstance(root.value, dict)):
            super().__init__(root, context_factory)
        else:
            raise ExpressionError("params must be a JSON object", path="params")
