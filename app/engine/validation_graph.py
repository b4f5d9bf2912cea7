"""Graph rules of a design: reachability, a way to an end, parallel/join pairs, automatic cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from app.engine.compiling import Collector
from app.engine.model import AUTO, Node


def _successors(node: Node) -> list[str]:
    targets = [e.target for e in node.edges if e.type != "return" and e.target]
    if node.fallback is not None and node.fallback.target:
        targets.append(node.fallback.target)
    return targets


def _reach(starts: Iterable[str], graph: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _cycles(nodes: dict[str, Node]) -> list[list[str]]:
    """Strongly connected groups of automatic nodes joined by goto edges (Tarjan, iterative)."""
    auto = {n for n, node in nodes.items() if node.type.mode == "auto"}
    graph = {n: [e.target for e in nodes[n].edges if e.type == "goto" and e.target in auto]
             for n in auto}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(auto):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            name, i = work.pop()
            if i == 0:
                index[name] = low[name] = len(index)
                stack.append(name)
                on_stack.add(name)
            if i < len(graph[name]):
                work.append((name, i + 1))
                nxt = graph[name][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[name] = min(low[name], index[nxt])
                continue
            if low[name] == index[name]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == name:
                        break
                if len(group) > 1 or name in graph[name]:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
    return found


def check_graph(start: str, nodes: dict[str, Node], col: Collector) -> None:
    graph = {name: [t for t in _successors(node) if t in nodes] for name, node in nodes.items()}
    if start in nodes:
        reachable = _reach([start], graph)
        for name in nodes:
            if name not in reachable:
                col.add("unreachable", "no path from the start node reaches this node", node=name)
        reverse: dict[str, list[str]] = {}
        for name, targets in graph.items():
            for target in targets:
                reverse.setdefault(target, []).append(name)
        ends = [n for n, node in nodes.items() if node.type.name == "end"]
        can_end = _reach(ends, reverse)
        if not ends:
            col.add("no_end", "the design has no end node")
        for name in nodes:
            if name in reachable and name not in can_end and ends:
                col.add("no_path_to_end", "no path from this node reaches an end node", node=name)
    _check_parallels(nodes, graph, col)
    for group in _cycles(nodes):
        col.add("automatic_cycle", "these automatic nodes loop without waiting: "
                + " -> ".join(group), node=group[0])


def _join_refused(join: object, nodes: dict[str, Node]) -> str | None:
    """Why a parallel's `config.join` names no join node, said as what to fix; None if it does.
    Quoting the value as such would print Python's None for a join left out."""
    fix = "name the join node where this parallel's branches meet"
    if join is None or join == "":
        return f"config.join is missing: {fix}"
    if not isinstance(join, str):
        return f"config.join must be a node's name: {fix}"
    if join not in nodes:
        return f"config.join '{join}' is not a node of this design: {fix}"
    if nodes[join].type.name != "join":
        return f"config.join '{join}' is a {nodes[join].type.name} node, not a join: {fix}"
    return None


def _check_parallels(nodes: dict[str, Node], graph: dict[str, list[str]], col: Collector) -> None:
    claimed: dict[str, str] = {}
    for name, node in nodes.items():
        if node.type.name != "parallel":
            continue
        join = node.config.get("join")
        refused = _join_refused(join, nodes)
        if refused is not None:
            col.add("parallel_without_join", refused, "config.join", node=name)
            continue
        if join in claimed:
            col.add("parallel_without_join", f"join '{join}' already belongs to parallel "
                    f"'{claimed[join]}'", "config.join", node=name)
            continue
        claimed[join] = name
        branches = [e for e in node.edges if e.type == "goto" and e.action == AUTO]
        if len(branches) < 2:
            col.add("parallel_without_join", "a parallel needs at least two automatic goto edges",
                    "edges", node=name)
        for edge in branches:
            if edge.target in nodes and join not in _reach([edge.target], graph):
                col.add("parallel_without_join", f"this branch never reaches join '{join}'",
                        "target_node", node=name, edge=edge.index)
    for name, node in nodes.items():
        if node.type.name == "join" and name not in claimed:
            col.add("join_without_parallel", "no parallel node names this join", node=name)
