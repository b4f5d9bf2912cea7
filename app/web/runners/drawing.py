"""A runner drawn on its design: where each box and arrow goes, and what state each node is in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.web.graph import NODE_HEIGHT, NODE_WIDTH, layout

# Node state -> the words the legend, the <title> and the table use.
STATE_LABELS = {
    "current": "running now",
    "waiting": "waiting",
    "failed": "failed",
    "ok": "done",
    "visited": "visited",
    "idle": "not visited",
}
NAME_CHARS = 20  # a box fits about this many characters; the full name is in its <title>
DIP = 46  # how far below the boxes an arrow going back to an earlier column runs
PARALLEL = 10  # px between arrows joining the same two boxes
# A drawing shrinks to fit its box, but not below this scale: its 14px names stay over 10px.
LEGIBLE_SCALE = 0.75
# runners.css has a `graph--min-N` class (min-width: Npx) for N in these steps up to FIT_MAX; no
# inline styles under the CSP, so a drawing's floor is rounded up to one of them.
FIT_STEP, FIT_MAX = 50, 2000
WIDE = 1000  # px: a drawing that may not shrink below this can overflow a laptop-width page


@dataclass(frozen=True)
class DrawnNode:
    name: str
    type: str
    x: float
    y: float
    state: str

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def short_name(self) -> str:
        return self.name if len(self.name) <= NAME_CHARS else self.name[:NAME_CHARS - 1] + "…"


@dataclass(frozen=True)
class DrawnEdge:
    source: str
    target: str
    label: str
    kind: str  # goto | fallback
    path: str  # SVG path data
    label_x: float
    label_y: float
    condition: str | None = None  # the edge's config.condition: which way a node goes, and when


@dataclass(frozen=True)
class Drawing:
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]
    width: float
    height: float
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT

    @property
    def min_width(self) -> int:
        """The narrowest the drawing may be shown at and stay legible, in whole FIT_STEPs."""
        return math.ceil(self.width * LEGIBLE_SCALE / FIT_STEP) * FIT_STEP

    @property
    def fit_class(self) -> str:
        """The runners.css class sizing the SVG: shrink to the box down to `min_width`, or keep its
        own size when even that is beyond the classes there are."""
        return f"graph--min-{self.min_width}" if self.min_width <= FIT_MAX else "graph--natural"

    @property
    def wide(self) -> bool:
        """Whether the box may have to scroll sideways to show it all (the page says so)."""
        return self.min_width > WIDE


def end_reached(drawing: Drawing) -> str | None:
    """The end node the runner reached: entering one ends the runner, so at most one is visited."""
    return next((n.name for n in drawing.nodes if n.type == "end" and n.state != "idle"), None)


def node_state(name: str, *, current: list[str], latest: str | None, runner_status: str) -> str:
    """How to show a node: where the runner is (and whether it is stuck there), else how its
    latest visit ended, else not visited."""
    if name in current:
        if runner_status == "failed":
            return "failed"
        return "waiting" if latest == "waiting" or runner_status == "waiting" else "current"
    if latest is None:
        return "idle"
    return {"failed": "failed", "succeeded": "ok"}.get(latest, "visited")


def _route(source: Any, target: Any, shift: float = 0) -> tuple[str, float, float, float]:
    """Path data, label position and the lowest y reached, for an arrow between two boxes;
    `shift` moves a second arrow between the same boxes off the first."""
    w, h = NODE_WIDTH, NODE_HEIGHT
    if target.x >= source.x + w:  # forward: right side to left side
        x1, y1, x2, y2 = source.x + w, source.y + h / 2 + shift, target.x, target.y + h / 2 + shift
        dx = (x2 - x1) / 2
        path = f"M{x1:g},{y1:g} C{x1 + dx:g},{y1:g} {x2 - dx:g},{y2:g} {x2:g},{y2:g}"
        return path, (x1 + x2) / 2, (y1 + y2) / 2 - 6, max(y1, y2)
    if target.x + w <= source.x:  # backward: under the boxes, bottom to bottom
        x1, y1, x2, y2 = source.x + w / 2 + shift, source.y + h, target.x + w / 2 + shift, target.y + h
        low = max(y1, y2) + DIP + shift
        path = f"M{x1:g},{y1:g} C{x1:g},{low:g} {x2:g},{low:g} {x2:g},{y2:g}"
        return path, (x1 + x2) / 2, low - 4, low
    # Same column: bottom to top (or top to bottom when going up).
    x1, x2 = source.x + w / 2 + shift, target.x + w / 2 + shift
    y1, y2 = (source.y + h, target.y) if target.y > source.y else (source.y, target.y + h)
    return f"M{x1:g},{y1:g} L{x2:g},{y2:g}", max(x1, x2) + 6, (y1 + y2) / 2, max(y1, y2)


def draw(document: dict[str, Any], *, current: list[str], statuses: dict[str, str],
         runner_status: str) -> Drawing:
    """The design's layout (app.web.graph) with each node's state and each edge's route."""
    graph = layout(document)
    nodes = [DrawnNode(b.name, b.type, b.x, b.y, node_state(
        b.name, current=current, latest=statuses.get(b.name), runner_status=runner_status))
        for b in graph.boxes]
    boxes = {b.name: b for b in graph.boxes}
    edges, lowest, seen = [], graph.height, {}
    for line in graph.lines:
        pair = (line.source, line.target)
        seen[pair] = seen.get(pair, -1) + 1  # several arrows between two nodes: side by side
        path, label_x, label_y, low = _route(boxes[line.source], boxes[line.target], PARALLEL * seen[pair])
        edges.append(DrawnEdge(line.source, line.target, line.label, line.kind, path,
                               label_x, label_y + 14 * seen[pair], line.condition))
        lowest = max(lowest, low + 14 * seen[pair] + 20)
    return Drawing(nodes, edges, graph.width, lowest)
