"""What the editor page hands to static/js/designer.js: node positions, the palette, problem nodes."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from app.engine import NODE_TYPES, Problem
from app.web.graph import COLUMN, MARGIN, NODE_HEIGHT, NODE_WIDTH, ROW, layout


def pretty(document: dict[str, Any]) -> str:
    """The document as the textarea shows it: indented, non-ASCII kept readable."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def _drawable(document: dict[str, Any]) -> dict[str, Any]:
    """The parts of a typed document the drawing can use. A draft saves whatever JSON the admin
    wrote (Validate names what is wrong), so a position that is NaN or infinite must not stop the
    editor from opening: the page's data-graph would not parse in the browser. (Edges aimed at a
    list or an object are skipped by app/web/graph.py's `lines` itself.)"""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    kept = []
    for typed in nodes if isinstance(nodes, list) else []:
        if not isinstance(typed, dict):
            continue
        node = dict(typed)  # a copy: the page's text keeps what was typed
        position = node.get("position")
        if isinstance(position, dict) and not all(
                isinstance(position.get(k), int | float) and math.isfinite(position[k]) for k in ("x", "y")):
            node.pop("position")
        kept.append(node)
    return {**document, "nodes": kept} if isinstance(document, dict) else {"nodes": kept}


def graph_data(document: dict[str, Any]) -> dict[str, Any]:
    """Where each node is drawn (saved position, else app/web/graph.py's layout) and the box sizes."""
    graph = layout(_drawable(document))
    return {"positions": {box.name: {"x": box.x, "y": box.y} for box in graph.boxes},
            "width": graph.width, "height": graph.height, "nodeWidth": NODE_WIDTH,
            "nodeHeight": NODE_HEIGHT, "margin": MARGIN, "column": COLUMN, "row": ROW}


def palette() -> list[dict[str, Any]]:
    """Every node type the engine knows, with its config keys so the panel can say what fits."""
    return [{"type": name, "keys": sorted(node_type.schema.get("properties", {})),
             "required": list(node_type.schema.get("required", [])),
             "takesActions": node_type.accepts_actions, "serviceDecides": node_type.service_decides,
             "decidedThrough": node_type.decided_through}
            for name, node_type in NODE_TYPES.items()]


def problem_nodes(problems: Iterable[Problem] | None) -> list[str]:
    """The names of the nodes the editor highlights."""
    return sorted({p.node for p in problems or () if p.node is not None})
