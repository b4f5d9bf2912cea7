"""Compiled design values: a design is the definition, a RunnerState is one run of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.engine.compiling import DataMapping
from app.engine.expressions import CompiledExpression
from app.engine.retry import RetryPolicy

if TYPE_CHECKING:
    from app.engine.nodes.base import NodeType

AUTO = "auto"  # the action of every transition nobody submits (automatic nodes, effect results)


@dataclass(frozen=True, slots=True)
class Edge:
    """A way out of a node: goto moves, return answers and stays, fallback catches failure."""

    index: int
    type: str
    action: str
    target: str | None
    condition: CompiledExpression | None
    returns: DataMapping | None
    # A Back or "save for later" way out: the action's data is neither checked nor stored, so a
    # half-filled form can still be left by it.
    ignores_data: bool = False


@dataclass(frozen=True, slots=True)
class Permission:
    roles: frozenset[str]
    actions: frozenset[str]

    def allows(self, roles: frozenset[str], action: str) -> bool:
        role_ok = "*" in self.roles or not self.roles.isdisjoint(roles)
        return role_ok and ("*" in self.actions or action in self.actions)


@dataclass(frozen=True, slots=True)
class Node:
    """One compiled node. `compiled` is the type's parsed config (templates, JMESPath, schemas)."""

    name: str
    type: NodeType
    stage: str | None
    config: dict[str, Any]
    compiled: Any
    permissions: tuple[Permission, ...]
    edges: tuple[Edge, ...]
    by_action: dict[str, tuple[Edge, ...]]
    fallback: Edge | None
    retry: RetryPolicy

    @property
    def actions(self) -> list[str]:
        """Actions this node has edges for (what NoMatchingEdge lists)."""
        return sorted(self.by_action)

    def ignores_data(self, action: str) -> bool:
        """Whether `action` leaves without checking or keeping its data (a Back button); validation
        makes every edge of one action agree, so the first one says it."""
        edges = self.by_action.get(action)
        return bool(edges) and edges[0].ignores_data


@dataclass(frozen=True, slots=True)
class Design:
    """A validated, compiled design; build with `compile_design`, share it between runners."""

    key: str
    start_node: str
    nodes: dict[str, Node]
    params: Any  # the compiled params template, or None
    raw: dict[str, Any] = field(repr=False, compare=False)
