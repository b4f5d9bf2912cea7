"""Leaving a node whose service keeps an open request withdraws that request, exactly once."""

from __future__ import annotations

import pytest

from app import engine
from app.engine import effects as fx

OFFICER = engine.Actor("o1", "staff", frozenset({"credit_officer"}))


def approval_design() -> dict:
    return {"start_node": "s", "nodes": [
        {"name": "s", "type": "start", "edges": [{"type": "goto", "target_node": "review"}]},
        {"name": "review", "type": "approval", "config": {"approvers": {"roles": ["credit_officer"]}},
         "permissions": [{"roles": ["credit_officer"], "actions": ["approve", "reject"]}],
         "edges": [{"action": "approve", "type": "goto", "target_node": "e"},
                   {"action": "reject", "type": "goto", "target_node": "e"}]},
        {"name": "e", "type": "end"}]}


def started() -> tuple[engine.Design, engine.RunnerState, str]:
    design = engine.compile_design(approval_design())
    state = engine.new_state("r1", design.key)
    _, effects = engine.advance(design, state, engine.Started())
    opened = [e for e in effects if isinstance(e, fx.OpenApproval)]
    assert len(opened) == 1
    return design, state, opened[0].effect_id


def test_leaving_by_an_action_withdraws_the_open_approval():
    design, state, effect_id = started()
    _, effects = engine.execute(design, state, "approve", {}, engine.SYSTEM)
    withdrawn = [e for e in effects if isinstance(e, fx.Withdraw)]
    assert [(w.effect_id, w.kind) for w in withdrawn] == [(effect_id, "approval")]
    assert state.status is engine.Status.SUCCEEDED


def test_people_never_act_at_an_approval_node_even_with_permission():
    """Its permissions name the officer, but a direct action would skip maker-checker and levels:
    only the approval service (a system actor) decides, so the request stays open."""
    design, state, _ = started()
    with pytest.raises(engine.PermissionDenied, match="decided through its approval request"):
        engine.execute(design, state, "approve", {}, OFFICER)
    assert state.status is engine.Status.WAITING and list(state.slots) == ["review"]


def test_cancel_withdraws_once():
    design, state, effect_id = started()
    _, effects = engine.advance(design, state, engine.CancelRequested())
    assert [e.effect_id for e in effects if isinstance(e, fx.Withdraw)] == [effect_id]
