"""State serialisation: versioned, upgradeable, small, and enough to re-derive awaited work."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.engine import (
    SCHEMA_VERSION,
    AwaitCallback,
    CallHttp,
    EffectFailed,
    InvalidState,
    OpenApproval,
    RunCode,
    ScheduleTimer,
    StartChild,
    dump_state,
    load_state,
    next_due,
    pending_effects,
)
from app.engine.serialize import UPGRADES
from tests.engine.helpers import OPEN, T0, Harness, design, goto, node


def test_dump_is_json_and_versioned_and_can_leave_the_store_out() -> None:
    h = Harness(design(node("ask", "form", goto("end", "go"), permissions=OPEN)))
    h.start({"big": "x" * 10_000})
    doc = dump_state(h.state, include_store=False)
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert "store" not in doc
    assert load_state(doc, store={"big": "y"}).store == {"big": "y"}
    assert load_state(dump_state(h.state)).store == h.state.store


def test_state_does_not_grow_with_history() -> None:
    h = Harness(design(node("ask", "form", goto("bump", "again"), goto("end", "done"),
                            permissions=OPEN),
                       node("bump", "transform", goto("ask"), config={"data": {"n": "data.n"}})))
    h.start()
    h.act("again", {"n": 0})
    size = len(json.dumps(dump_state(h.state, include_store=False)))
    for n in range(1, 60):
        h.act("again", {"n": n})
    assert len(json.dumps(dump_state(h.state, include_store=False))) <= size + 10
    assert len(h.records("bump")) == 60  # the history left as WriteExecution effects


def test_a_v0_document_is_upgraded() -> None:
    # v0: one current node, as seed 001's runners report it.
    v0 = {"runner_id": "old-1", "design_id": "loan:3", "current_node": "review",
          "status": "waiting", "store": {"amount": 5}}
    assert 0 in UPGRADES
    state = load_state(v0)
    assert (state.runner_id, state.design_key, state.current_nodes, state.store) == (
        "old-1", "loan:3", ["review"], {"amount": 5})
    assert dump_state(state)["schema_version"] == SCHEMA_VERSION
    h = Harness(design(node("review", "form", goto("end", "approve"), permissions=OPEN)))
    h.state = state
    h.act("approve")  # an upgraded runner carries on
    assert h.status == "succeeded"


def test_a_newer_document_is_refused() -> None:
    with pytest.raises(InvalidState, match="newer than this engine"):
        load_state({"schema_version": SCHEMA_VERSION + 1, "runner_id": "x"})


def test_pending_effects_rederive_everything_awaited() -> None:
    h = Harness(design(
        node("fork", "parallel", *(goto(n) for n in ("call", "code", "ok", "cb", "wait", "kid")),
             config={"join": "meet"}),
        node("call", "api_call", goto("meet"), config={"url": "https://x"}),
        node("code", "code_snippet", goto("meet"), config={"code": "c"}),
        node("ok", "approval", goto("meet", "approve"),
             config={"title": "T ${store.n}", "approvers": {"roles": ["m"]}}),
        node("cb", "callback", goto("meet")),
        node("wait", "timer", goto("meet"), config={"duration": 60}),
        node("kid", "subflow", goto("meet"), config={"flow": "child"}),
        node("meet", "join", goto("end"))))
    h.start({"n": 1})
    first = sorted(h.last, key=repr)
    kinds = (CallHttp, RunCode, OpenApproval, AwaitCallback, ScheduleTimer, StartChild)
    emitted = sorted((e for e in first if isinstance(e, kinds)), key=repr)
    assert len(emitted) == 6
    restored = load_state(json.loads(json.dumps(dump_state(h.state))))
    assert sorted(pending_effects(h.design, restored, clock=h.clock), key=repr) == emitted
    assert next_due(restored) == T0 + timedelta(seconds=60)


def test_next_due_includes_retries() -> None:
    h = Harness(design(node("call", "api_call", goto("end"), config={"url": "https://x"},
                            retry={"maximumAttempts": 2, "initialInterval": 30})))
    h.start()
    assert next_due(h.state) is None
    h.send(EffectFailed(h.one(CallHttp).effect_id, "down"))
    assert next_due(h.state) == T0 + timedelta(seconds=30)
    assert pending_effects(h.design, h.state) == [h.one(ScheduleTimer)]
