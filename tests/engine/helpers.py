"""Builders for small designs and a harness that saves and restores state around every event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app.engine import (
    ActionSubmitted,
    Actor,
    Design,
    Effect,
    ExecutionRecord,
    RunnerState,
    Started,
    WriteExecution,
    advance,
    compile_design,
    dump_state,
    load_state,
    new_state,
)
from app.engine.events import Event

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
STAFF = Actor("u-staff", "staff", frozenset({"officer"}))
CUSTOMER = Actor("u-cust", "customer", frozenset({"customer"}))
OPEN = [{"roles": ["*"], "actions": ["*"]}]


def goto(target: str, action: str = "auto", condition: str | None = None,
         returns: Any = None, transformer: str = "jmes", kind: str = "goto") -> dict[str, Any]:
    edge: dict[str, Any] = {"type": kind, "action": action}
    if target:
        edge["target_node"] = target
    if condition:
        edge["config"] = {"condition": condition}
    if returns is not None:
        edge["return"] = {"data": returns, "transformer": transformer}
    return edge


def node(name: str, type_: str, *edges: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "config": fields.pop("config", {}),
            "edges": list(edges), **fields}


def design(*nodes: dict[str, Any], start: str = "start", **top: Any) -> dict[str, Any]:
    """A design dict; adds `start -> <first node>` and an `end` node unless given."""
    names = [n["name"] for n in nodes]
    items = list(nodes)
    if start not in names:
        items.insert(0, node(start, "start", goto(names[0])))
    if "end" not in names:
        items.append(node("end", "end"))
    return {"start_node": start, "nodes": items, **top}


def save_restore(state: RunnerState) -> RunnerState:
    """Through JSON and back (store apart), as a service would persist it; must be lossless."""
    doc = json.loads(json.dumps(dump_state(state, include_store=False)))
    store = json.loads(json.dumps(state.store))
    restored = load_state(doc, store=store)
    assert json.dumps(dump_state(restored), sort_keys=True) == json.dumps(
        dump_state(state), sort_keys=True)
    return restored


class Harness:
    """Drives one runner; the state is saved and restored before and after every event."""

    def __init__(self, raw: dict[str, Any] | Design, runner_id: str = "r1") -> None:
        self.design = raw if isinstance(raw, Design) else compile_design(raw)
        self.state = new_state(runner_id, self.design.key)
        self.now = T0
        self.effects: list[Effect] = []
        self.last: list[Effect] = []

    def clock(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def send(self, event: Event) -> list[Effect]:
        self.state = save_restore(self.state)
        state, effects = advance(self.design, self.state, event, clock=self.clock)
        self.state = save_restore(state)
        self.last = effects
        self.effects.extend(effects)
        return effects

    def start(self, data: Any = None) -> list[Effect]:
        return self.send(Started(data))

    def act(self, action: str, data: Any = None, actor: Actor = STAFF,
            node: str | None = None) -> list[Effect]:
        return self.send(ActionSubmitted(action, data, actor, node))

    def one(self, kind: type) -> Any:
        """The single effect of `kind` the last event produced."""
        found = [e for e in self.last if isinstance(e, kind)]
        assert len(found) == 1, f"expected one {kind.__name__}, got {self.last}"
        return found[0]

    def records(self, node_name: str | None = None) -> list[ExecutionRecord]:
        """Final version of every execution record written so far (upserted by id)."""
        latest: dict[str, ExecutionRecord] = {}
        for effect in self.effects:
            if isinstance(effect, WriteExecution):
                latest[effect.record.id] = effect.record
        return [r for r in latest.values() if node_name is None or r.node == node_name]

    @property
    def status(self) -> str:
        return self.state.status.value

    @property
    def at(self) -> list[str]:
        return self.state.current_nodes
