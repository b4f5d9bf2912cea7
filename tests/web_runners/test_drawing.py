"""Where the runner page draws arrows, and which state each node shows."""

from __future__ import annotations

import pytest

from app.web.graph import NODE_HEIGHT, NODE_WIDTH, Line, layout, lines
from app.web.runners.drawing import draw, node_state
from app.web.runners.values import value_rows


@pytest.mark.parametrize(("name", "latest", "status", "expected"), [
    ("a", "waiting", "waiting", "waiting"),
    ("a", "running", "running", "current"),
    ("a", "failed", "running", "current"),  # failed an attempt, retrying: still where it runs
    ("a", "failed", "failed", "failed"),
    ("b", "succeeded", "waiting", "ok"),
    ("b", "failed", "waiting", "failed"),  # failed and left by its fallback edge
    ("b", "cancelled", "cancelled", "visited"),
    ("b", None, "waiting", "idle"),
])
def test_node_state(name, latest, status, expected):
    assert node_state(name, current=["a"], latest=latest, runner_status=status) == expected


@pytest.mark.parametrize("target", [["e"], {"name": "e"}, 7, None])
def test_an_edge_whose_target_is_not_a_name_is_not_drawn(target):
    """`lines` raised TypeError (unhashable) on a list or object target, failing the whole page."""
    document = {"start_node": "s", "nodes": [
        {"name": "s", "type": "start", "edges": [{"type": "goto", "target_node": target},
                                                 {"type": "goto", "target_node": "e"}]},
        {"name": "e", "type": "end"}]}
    assert lines(document) == [Line("s", "e", "auto", "goto")]
    assert [box.name for box in layout(document).boxes] == ["s", "e"]
    drawing = draw(document, current=["s"], statuses={}, runner_status="running")
    assert [(e.source, e.target) for e in drawing.edges] == [("s", "e")]


def test_arrows_go_forward_side_to_side_and_back_underneath():
    document = {"start_node": "s", "nodes": [
        {"name": "s", "type": "start", "edges": [{"type": "goto", "target_node": "f"}]},
        {"name": "f", "type": "form", "edges": [
            {"action": "submit", "type": "goto", "target_node": "e"},
            {"action": "again", "type": "goto", "target_node": "s"},
            {"type": "fallback", "target_node": "e"}]},
        {"name": "e", "type": "end"}]}
    drawing = draw(document, current=["f"], statuses={"s": "succeeded", "f": "waiting"},
                   runner_status="waiting")
    boxes = {n.name: n for n in drawing.nodes}
    assert [n.state for n in drawing.nodes] == ["ok", "waiting", "idle"]
    forward, back = (next(e for e in drawing.edges if e.label == label) for label in ("submit", "again"))
    fallback = next(e for e in drawing.edges if e.kind == "fallback")
    f, e = boxes["f"], boxes["e"]
    assert forward.path.startswith(f"M{f.x + NODE_WIDTH:g},{f.y + NODE_HEIGHT / 2:g} C")
    assert forward.path.endswith(f"{e.x:g},{e.y + NODE_HEIGHT / 2:g}")
    assert back.path.startswith(f"M{f.x + NODE_WIDTH / 2:g},{f.y + NODE_HEIGHT:g} C")
    assert back.label_y > f.y + NODE_HEIGHT and drawing.height > back.label_y
    # Two arrows between the same boxes run side by side, their labels apart.
    assert fallback.path.startswith(f"M{f.x + NODE_WIDTH:g},{f.y + NODE_HEIGHT / 2 + 10:g} C")
    assert fallback.label_y - forward.label_y >= 14


def test_values_are_cut_with_the_full_json_kept():
    rows = value_rows({"b": "x" * 100, "a": {"k": 1}, "c": None})
    assert [r.key for r in rows] == ["a", "b", "c"]
    assert rows[0].short == '{"k": 1}' and rows[0].full is None
    assert rows[1].short == "x" * 79 + "…" and rows[1].full == '"' + "x" * 100 + '"'
    assert rows[2].short == "null"


def test_each_arrow_carries_its_edges_condition():
    """A condition node's two "auto" arrows did not say which way the runner goes, or when."""
    document = {"start_node": "route", "nodes": [
        {"name": "route", "type": "condition", "fallback_node": "no", "edges": [
            {"type": "goto", "target_node": "missing"},  # not drawn: no such node
            {"type": "goto", "target_node": "yes", "config": {"condition": "store.score >= 650"}},
            {"type": "return", "action": "peek"},
            {"type": "goto", "target_node": "no"}]},
        {"name": "yes", "type": "end"}, {"name": "no", "type": "end"}]}
    drawing = draw(document, current=[], statuses={}, runner_status="waiting")
    assert [(e.target, e.kind, e.condition) for e in drawing.edges] == [
        ("yes", "goto", "store.score >= 650"), ("no", "goto", None), ("no", "fallback", None)]


def test_the_nodes_table_says_when_an_edge_is_taken(client, lender, sign_in):
    flow = lender.flow({"name": "Routes", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "edges": [
            {"type": "goto", "target_node": "big", "config": {"condition": "data.amount > 100"}},
            {"type": "goto", "target_node": "small"}]},
        {"name": "big", "type": "end"}, {"name": "small", "type": "end"}]})
    runner = lender.start(flow, data={"amount": 5})
    sign_in("viewer")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "big (auto, if <code>data.amount &gt; 100</code>), small (auto)" in html
    assert "start → big: auto, if data.amount &gt; 100</title>" in html
