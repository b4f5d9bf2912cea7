"""The designs every benchmark runs, and the SpiffWorkflow BPMN process equivalent to the linear one."""

from __future__ import annotations

from typing import Any

ANYONE = [{"roles": ["*"], "actions": ["*"]}]


def _transforms(prefix: str, count: int, exit_to: str) -> list[dict[str, Any]]:
    """`count` transform nodes in a row, each writing one store key, leaving for `exit_to`."""
    nodes = []
    for i in range(count):
        target = f"{prefix}{i + 1}" if i < count - 1 else exit_to
        nodes.append({"name": f"{prefix}{i}", "type": "transform",
                      "config": {"data": {f"k{i}": "store.x"}},
                      "edges": [{"type": "goto", "target_node": target}]})
    return nodes


def _branches(rounds: int, exit_to: str) -> list[dict[str, Any]]:
    """`rounds` condition nodes, each choosing one of two transforms by the store's `x`."""
    nodes = []
    for i in range(rounds):
        after = f"c{i + 1}" if i < rounds - 1 else exit_to
        nodes.append({"name": f"c{i}", "type": "condition", "edges": [
            {"type": "goto", "target_node": f"a{i}", "config": {"condition": f"store.x > {i % 3}"}},
            {"type": "goto", "target_node": f"b{i}"}]})
        for side in ("a", "b"):
            nodes.append({"name": f"{side}{i}", "type": "transform",
                          "config": {"data": {f"{side}{i}": "store.x"}},
                          "edges": [{"type": "goto", "target_node": after}]})
    return nodes


def _start(target: str) -> dict[str, Any]:
    # The start node seeds the store from the initial data ({"x": 1} in every benchmark).
    return {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": target}]}


def linear(nodes: int = 50) -> dict[str, Any]:
    """start -> `nodes` transforms -> end: runs to the end on Started (nodes + 2 transitions)."""
    return {"id": f"bench-linear-{nodes}", "version": 1, "start_node": "start",
            "nodes": [_start("t0"), *_transforms("t", nodes, "end"), {"name": "end", "type": "end"}]}


def branching(rounds: int = 25) -> dict[str, Any]:
    """start -> `rounds` x (condition -> one of two transforms) -> end (2 * rounds + 2 transitions)."""
    return {"id": f"bench-branching-{rounds}", "version": 1, "start_node": "start",
            "nodes": [_start("c0"), *_branches(rounds, "end"), {"name": "end", "type": "end"}]}


def _gate(first: str) -> dict[str, Any]:
    """A form that waits for `go` (into the stretch) or `finish` (to the end)."""
    return {"name": "gate", "type": "form", "permissions": ANYONE,
            "edges": [{"action": "go", "type": "goto", "target_node": first},
                      {"action": "finish", "type": "goto", "target_node": "end"}]}


def stretch(nodes: int, *, kind: str = "linear") -> dict[str, Any]:
    """start -> gate (form) -> an automatic stretch -> back to gate.

    Each `go` at the gate is one durable transition running the whole stretch: `nodes + 1` node
    steps (the gate's own visit ends too). `kind="branching"` uses `nodes // 2` condition rounds.
    """
    body = (_transforms("t", nodes, "gate") if kind == "linear"
            else _branches(max(1, nodes // 2), "gate"))
    return {"start_node": "start",
            "nodes": [_start("gate"), _gate(body[0]["name"]), *body, {"name": "end", "type": "end"}]}


def stretch_steps(nodes: int, *, kind: str = "linear") -> int:
    """Node steps one `go` at the gate of `stretch(nodes, kind=kind)` performs."""
    return nodes + 1 if kind == "linear" else 2 * max(1, nodes // 2) + 1


def self_loop() -> dict[str, Any]:
    """start -> gate; `go` leaves the gate and comes straight back: one node step per transition."""
    return {"start_node": "start", "nodes": [
        _start("gate"),
        {"name": "gate", "type": "form", "permissions": ANYONE,
         "edges": [{"action": "go", "type": "goto", "target_node": "gate"},
                   {"action": "finish", "type": "goto", "target_node": "end"}]},
        {"name": "end", "type": "end"}]}


def http_stretch(nodes: int, url: str) -> dict[str, Any]:
    """start -> gate -> `nodes` api_call nodes -> gate: every node is a work item for an executor."""
    calls = []
    for i in range(nodes):
        target = f"h{i + 1}" if i < nodes - 1 else "gate"
        calls.append({"name": f"h{i}", "type": "api_call",
                      "config": {"url": url, "method": "GET"},
                      "edges": [{"type": "goto", "target_node": target}]})
    return {"start_node": "start",
            "nodes": [_start("gate"), _gate("h0"), *calls, {"name": "end", "type": "end"}]}


BPMN_NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def spiff_linear_bpmn(tasks: int = 50, *, wait_first: bool = False) -> bytes:
    """A BPMN process of `tasks` script tasks in a row, each setting one variable like a transform.

    With `wait_first`, a user task precedes them, so a started instance waits (for size figures).
    """
    parts = [f'<bpmn:definitions {BPMN_NS} id="defs" targetNamespace="bench">',
             '<bpmn:process id="linear" isExecutable="true"><bpmn:startEvent id="start"/>']
    previous = "start"
    if wait_first:
        parts.append('<bpmn:userTask id="gate"/>'
                     '<bpmn:sequenceFlow id="fgate" sourceRef="start" targetRef="gate"/>')
        previous = "gate"
    for i in range(tasks):
        parts.append(f'<bpmn:scriptTask id="t{i}" scriptFormat="python">'
                     f'<bpmn:script>k{i} = x</bpmn:script></bpmn:scriptTask>'
                     f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="t{i}"/>')
        previous = f"t{i}"
    parts.append(f'<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="fend" sourceRef="{previous}" '
                 'targetRef="end"/></bpmn:process></bpmn:definitions>')
    return "".join(parts).encode()
