"""The layout the designer and runner pages draw from."""

from __future__ import annotations

import json
from pathlib import Path

from app import engine
from app.web.graph import COLUMN, MARGIN, layout

LOAN = json.loads((Path(__file__).resolve().parent.parent / "docs/examples/loan.json").read_text())


def test_nodes_without_positions_are_laid_out_by_distance_from_start() -> None:
    graph = layout(LOAN)
    x = {box.name: box.x for box in graph.boxes}
    assert x["start"] == MARGIN
    assert x["application"] == MARGIN + COLUMN
    assert x["approval"] > x["route"] > x["credit_check"] > x["application"]
    assert len({(b.x, b.y) for b in graph.boxes}) == len(graph.boxes)  # no two boxes overlap
    assert graph.width > max(x.values()) and graph.height > 0


def test_a_saved_position_wins_and_the_engine_accepts_it() -> None:
    doc = json.loads(json.dumps(LOAN))
    doc["nodes"][1]["position"] = {"x": 500, "y": 420.5}
    box = next(b for b in layout(doc).boxes if b.name == doc["nodes"][1]["name"])
    assert (box.x, box.y) == (500, 420.5)
    assert engine.validate(doc) == []


def test_a_bad_position_is_a_validation_problem() -> None:
    doc = json.loads(json.dumps(LOAN))
    doc["nodes"][1]["position"] = {"x": "left"}
    problems = engine.validate(doc)
    assert problems and problems[0].node == doc["nodes"][1]["name"]


def test_fallbacks_and_unreachable_nodes_are_drawn() -> None:
    doc = {"start_node": "s", "nodes": [
        {"name": "s", "type": "start", "edges": [{"type": "goto", "target_node": "a"}]},
        {"name": "a", "type": "api_call", "fallback_node": "f", "edges": []},
        {"name": "f", "type": "end"}, {"name": "orphan", "type": "end"}]}
    graph = layout(doc)
    assert {(line.source, line.target, line.kind) for line in graph.lines} == {
        ("s", "a", "goto"), ("a", "f", "fallback")}
    x = {box.name: box.x for box in graph.boxes}
    assert x["orphan"] == MARGIN + 3 * COLUMN
