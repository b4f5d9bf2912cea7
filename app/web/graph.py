"""Where to draw a design's nodes and edges: shared by the designer and the runner pages.

Nodes keep the `position` the editor saved; the rest are laid out in columns by their distance
(in edges) from the start node, in document order within a column, so a design written by hand
or through the API still reads left to right.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

COLUMN = 220  # px between columns
ROW = 110  # px between nodes in a column
MARGIN = 30
NODE_WIDTH, NODE_HEIGHT = 170, 56


@dataclass(frozen=True)
class Box:
    name: str
    type: str
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    source: str
    target: str
    label: str
    kind: str  # goto | fallback
    # The edge's config.condition: two lines both labelled "auto" say nothing of which one is taken.
    condition: str | None = None


@dataclass(frozen=True)
class Graph:
    boxes: list[Box]
    lines: list[Line]
    width: float
    height: float


def _nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = document.get("nodes") if isinstance(document, dict) else None
    return [n for n in nodes or [] if isinstance(n, dict) and isinstance(n.get("name"), str)]


def lines(document: dict[str, Any]) -> list[Line]:
    """Every edge that leads somewhere (return edges stay on their node), fallbacks included."""
    names = {n["name"] for n in _nodes(document)}
    found: list[Line] = []
    for node in _nodes(document):
        for edge in node.get("edges") or []:
            if not isinstance(edge, dict):
                continue
            target = edge.get("target_node")
            # A draft keeps whatever JSON was typed: a list or object target is not a node's name
            # (and `in names` would raise on it), so it is not drawn; Validate names it.
            if not isinstance(target, str):
                continue
            if edge.get("type") in ("goto", "fallback") and target in names:
                kind = "fallback" if edge["type"] == "fallback" else "goto"
                config = edge.get("config")
                condition = config.get("condition") if isinstance(config, dict) else None
                found.append(Line(node["name"], target, str(edge.get("action") or "auto"), kind,
                                  condition if isinstance(condition, str) else None))
        fallback = node.get("fallback_node")
        if isinstance(fallback, str) and fallback in names:
            found.append(Line(node["name"], fallback, "fallback", "fallback"))
    return found


def _depths(document: dict[str, Any], edges: list[Line]) -> dict[str, int]:
    """Breadth-first distance from the start node; unreachable nodes go one column past the end."""
    nodes = _nodes(document)
    start = document.get("start_node")
    depth: dict[str, int] = {}
    if any(n["name"] == start for n in nodes):
        depth[start] = 0
        queue = deque([start])
        targets: dict[str, list[str]] = {}
        for line in edges:
            targets.setdefault(line.source, []).append(line.target)
        while queue:
            name = queue.popleft()
            for target in targets.get(name, []):
                if target not in depth:
                    depth[target] = depth[name] + 1
                    queue.append(target)
    last = max(depth.values(), default=-1) + 1
    return {n["name"]: depth.get(n["name"], last) for n in nodes}


def layout(document: dict[str, Any]) -> Graph:
    """Boxes (top-left corners) for every node and the lines between them."""
    edges = lines(document)
    depths = _depths(document, edges)
    rows: dict[int, int] = {}
    boxes: list[Box] = []
    for node in _nodes(document):
        position = node.get("position")
        if isinstance(position, dict) and all(isinstance(position.get(k), int | float)
                                              for k in ("x", "y")):
            x, y = float(position["x"]), float(position["y"])
        else:
            column = depths[node["name"]]
            row = rows[column] = rows.get(column, -1) + 1
            x, y = MARGIN + column * COLUMN, MARGIN + row * ROW
        boxes.append(Box(node["name"], str(node.get("type", "")), x, y))
    width = max((b.x for b in boxes), default=0) + NODE_WIDTH + MARGIN
    height = max((b.y for b in boxes), default=0) + NODE_HEIGHT + MARGIN
    return Graph(boxes, edges, width, height)
