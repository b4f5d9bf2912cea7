"""Design validation: every problem with its location, and the compiled design if none."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from app.engine.compiling import Collector, Problem
from app.engine.explain import explain
from app.engine.model import AUTO, Design, Edge, Node, Permission
from app.engine.nodes import NODE_TYPES
from app.engine.retry import RETRY_SCHEMA, RetryPolicy
from app.engine.validation_graph import check_graph

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_EDGE = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["goto", "return", "fallback"]},
        "action": {"type": "string", "minLength": 1},
        "target_node": {"type": ["string", "null"]},
        "config": {"type": "object", "additionalProperties": False,
                   "properties": {"condition": {"type": ["string", "null"]}}},
        "return": {"type": ["object", "null"], "additionalProperties": False,
                   "properties": {"data": {}, "transformer": {"enum": ["jmes", "template"]}}},
        "ignore_data": {"type": "boolean"},
    },
}
_PERMISSION = {
    "type": "object", "required": ["roles", "actions"], "additionalProperties": False,
    "properties": {"roles": {"type": "array", "items": {"type": "string"}},
                   "actions": {"type": "array", "items": {"type": "string"}}},
}
DESIGN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["start_node", "nodes"],
    "properties": {
        "id": {"type": ["string", "integer"]}, "name": {"type": "string"},
        "version": {"type": "integer"}, "description": {"type": "string"},
        "start_node": {"type": "string"},
        "params": {"type": "object"},
        "nodes": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "type"],
            "additionalProperties": False,
            "properties": {
                "name": _NAME, "type": {"type": "string"}, "stage": {"type": ["string", "null"]},
                "description": {"type": "string"},
                "config": {"type": "object"},
                "permissions": {"type": "array", "items": _PERMISSION},
                "edges": {"type": "array", "items": _EDGE},
                "retry": {"anyOf": [{"type": "null"}, RETRY_SCHEMA]},
                "fallback_node": {"type": ["string", "null"]},
                # Where the visual editor draws the node; the engine never reads it.
                "position": {"type": "object", "required": ["x", "y"], "additionalProperties": False,
                             "properties": {"x": {"type": "number"}, "y": {"type": "number"}}},
            },
        }},
    },
}
_ENVELOPE = Draft202012Validator(DESIGN_SCHEMA)


def _article(name: str) -> str:
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def _structure(raw: Any, col: Collector) -> None:
    for err in _ENVELOPE.iter_errors(raw):
        path = list(err.absolute_path)
        node = edge = None
        subject, depth = "the design", 0
        if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
            item = raw["nodes"][path[1]]
            node = item.get("name") if isinstance(item, dict) else None
            node = node if isinstance(node, str) else f"#{path[1]}"
            path, subject, depth = path[2:], "the node", 2
            if len(path) >= 2 and path[0] == "edges" and isinstance(path[1], int):
                edge, path, subject, depth = path[1], path[2:], "the edge", 4
        field = ".".join(str(p) for p in path) or None
        col.add("bad_structure", explain(err, subject, depth), field, node=node, edge=edge)


def _edges(raw_node: dict[str, Any], names: set[str], accepts: bool, col: Collector) -> list[Edge]:
    edges = []
    for index, raw in enumerate(raw_node.get("edges") or []):
        col.edge = index
        kind = raw.get("type", "goto")
        target = raw.get("target_node")
        if kind in ("goto", "fallback") and target is None:
            # Printing the missing target would say "None": say what to add instead.
            col.add("missing_target", "target_node is missing: name the node this edge goes to",
                    "target_node")
        elif kind in ("goto", "fallback") and target not in names:
            col.add("missing_target", f"edge goes to missing node '{target}'", "target_node")
        if kind == "return" and not accepts:
            col.add("bad_edge", "a return edge needs a node that takes actions", "type")
        condition = (raw.get("config") or {}).get("condition")
        edges.append(Edge(
            index=index, type=kind, action=raw.get("action") or AUTO, target=target,
            condition=col.expression(condition, "config.condition") if condition else None,
            returns=col.mapping(raw.get("return"), "return"), ignores_data=raw.get("ignore_data") is True))
    col.edge = None
    return edges


def _data_rules(by_action: dict[str, list[Edge]], accepts: bool, col: Collector) -> None:
    """`ignore_data` belongs to an action a person takes, and to all of that action's edges: which
    edge is taken may depend on the data, so the data cannot be both ignored and read. (A condition
    on such an edge still reads the store; it sees the data as empty.)"""
    for action, edges in by_action.items():
        ignoring = [e for e in edges if e.ignores_data]
        if not ignoring:
            continue
        col.edge = ignoring[0].index
        if not accepts or action == AUTO:
            col.add("bad_edge", "ignore_data needs an action a person takes at a node that takes "
                    "actions", "ignore_data")
        elif len(ignoring) != len(edges):
            col.add("bad_edge", f"every edge for action '{action}' must say the same ignore_data",
                    "ignore_data")
    col.edge = None


def _dead_edges(by_action: dict[str, list[Edge]], col: Collector) -> None:
    """The first edge for an action whose condition holds is taken (`Run.choose`): any edge after
    one with no condition can never be."""
    for action, edges in by_action.items():
        catch_all = next((e for e in edges if e.condition is None), None)
        for edge in edges:
            if catch_all is not None and edge.index > catch_all.index:
                col.edge = edge.index
                what = "the automatic way out" if action == AUTO else f"action '{action}'"
                col.add("dead_edge", f"never taken: edge {catch_all.index} takes {what} first, "
                        "with no condition; give that edge a condition or remove this one", "type")
    col.edge = None


def _node(raw: dict[str, Any], names: set[str], col: Collector) -> Node | None:
    node_type = NODE_TYPES.get(raw["type"])
    if node_type is None:
        col.add("unknown_type", f"unknown node type '{raw['type']}'; known: "
                f"{', '.join(sorted(NODE_TYPES))}", "type")
        return None
    config = raw.get("config") or {}
    compiled = None
    config_errors = list(Draft202012Validator(node_type.schema).iter_errors(config))
    for err in config_errors:
        where = ".".join(["config", *(str(p) for p in err.absolute_path)])
        col.add("bad_config", explain(err, _article(node_type.name)), where)
    if not config_errors:
        col.allow_secrets = node_type.may_use_secrets
        compiled = node_type.prepare(config, col)
        col.allow_secrets = False
    edges = _edges(raw, names, node_type.accepts_actions, col)
    fallbacks = [e for e in edges if e.type == "fallback"]
    fallback_node = raw.get("fallback_node")
    if fallback_node is not None:
        if fallback_node not in names:
            col.add("missing_target", f"fallback_node '{fallback_node}' does not exist",
                    "fallback_node")
        elif fallbacks:
            col.add("bad_edge", "use either fallback_node or a fallback edge, not both",
                    "fallback_node")
        else:
            fallbacks.append(Edge(len(edges), "fallback", AUTO, fallback_node, None, None))
    by_action: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.type != "fallback":
            by_action.setdefault(edge.action, []).append(edge)
    if node_type.name != "parallel":  # a parallel takes every automatic edge whose condition holds
        _dead_edges(by_action, col)
    _data_rules(by_action, node_type.accepts_actions, col)
    return Node(
        name=raw["name"], type=node_type, stage=raw.get("stage"), config=config,
        compiled=compiled,
        permissions=tuple(Permission(frozenset(p["roles"]), frozenset(p["actions"]))
                          for p in raw.get("permissions") or []),
        edges=tuple(edges), by_action={k: tuple(v) for k, v in by_action.items()},
        fallback=fallbacks[0] if fallbacks else None,
        retry=RetryPolicy.from_config(raw.get("retry")))


def build(raw: Any, key: str = "") -> tuple[Design | None, list[Problem]]:
    """Validate `raw` and compile it; the design is None whenever a problem was found."""
    col = Collector()
    _structure(raw, col)
    if col.problems:  # the rest assumes the basic shape holds
        return None, col.problems
    raw_nodes = raw["nodes"]
    names: set[str] = set()
    for item in raw_nodes:
        if item["name"] in names:
            col.add("duplicate_name", f"node name '{item['name']}' is used twice", "name",
                    node=item["name"])
        names.add(item["name"])
    start = raw["start_node"]
    if start not in names:
        col.add("no_start", f"start_node '{start}' is not a node", "start_node")
    params = col.template(raw["params"], "params") if raw.get("params") else None
    col.allow_secrets = False  # only params and api_call configs may name SECRET
    nodes: dict[str, Node] = {}
    for item in raw_nodes:
        col.node = item["name"]
        node = _node(item, names, col)
        if node is not None and node.name not in nodes:
            nodes[node.name] = node
    col.node = None
    if start in nodes and nodes[start].type.name != "start":
        col.add("no_start", f"start_node '{start}' must be of type start", "start_node")
    check_graph(start, nodes, col)
    if col.problems:
        return None, col.problems
    return Design(key=key, start_node=start, nodes=nodes, params=params, raw=raw), []


def validate(raw: Any) -> list[Problem]:
    """Every problem in a design (empty when it is sound), each located by node, edge and field."""
    return build(raw)[1]
