"""Engine behaviour across node types: permissions, edges, retries, fallback, lifecycle, versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engine import (
    SYSTEM,
    Actor,
    CallHttp,
    CancelRequested,
    DesignError,
    EffectFailed,
    EffectSucceeded,
    Finished,
    InvalidState,
    NoMatchingEdge,
    OpenApproval,
    PermissionDenied,
    Reply,
    RetryRequested,
    ScheduleTimer,
    TimerFired,
    Withdraw,
    can_retry,
    check_migration,
    compile_design,
    dump_state,
    may_act,
    migrate,
    permitted_actions,
)
from tests.engine.helpers import CUSTOMER, OPEN, STAFF, T0, Harness, design, goto, node

REVIEW = design(node("review", "form",
                     goto("end", "approve", condition="data.amount <= 1000"),
                     goto("end", "escalate"),
                     goto("", "preview", kind="return",
                          returns={"preview": "data.amount"}),
                     permissions=[{"roles": ["officer"], "actions": ["approve", "preview"]},
                                  {"roles": ["manager"], "actions": ["*"]}]))


def test_permission_denied_names_action_node_and_roles_but_no_id() -> None:
    h = Harness(REVIEW)
    h.start()
    before = dump_state(h.state)
    with pytest.raises(PermissionDenied) as caught:
        h.act("approve", {"amount": 1}, actor=CUSTOMER)
    # The message reaches pages and API clients as it is: no actor id in it.
    assert caught.value.message == ("'approve' at node 'review' is not permitted to your roles "
                                    "(customer)")
    assert "u-cust" not in str(caught.value)
    with pytest.raises(PermissionDenied):
        h.act("escalate", {}, actor=STAFF)  # officer role lacks this action
    assert dump_state(h.state) == before  # refused events change nothing
    h.act("escalate", {}, actor=Actor("m", "staff", frozenset({"manager"})))
    assert h.status == "succeeded"


def test_permitted_actions_are_what_execute_would_take_from_the_actor() -> None:
    review = compile_design(REVIEW).nodes["review"]
    boss = Actor("m", "staff", frozenset({"manager"}))
    assert permitted_actions(review, STAFF) == ["approve", "preview"]
    assert permitted_actions(review, boss) == ["approve", "escalate", "preview"]
    assert permitted_actions(review, CUSTOMER) == []
    assert permitted_actions(review, SYSTEM) == ["approve", "escalate", "preview"]
    assert may_act(review, STAFF, "approve") and not may_act(review, STAFF, "escalate")
    # An approval is decided through its service, whatever its permissions say.
    approval = compile_design(design(node("ok", "approval", goto("end", "approve"),
                                          config={"approvers": {"roles": ["officer"]}},
                                          permissions=[{"roles": ["*"], "actions": ["*"]}])))
    assert permitted_actions(approval.nodes["ok"], boss) == []
    assert permitted_actions(approval.nodes["ok"], SYSTEM) == ["approve"]
    # So is a document step: it moves on when its required files are in, not by a person's submit.
    docs = compile_design(design(node("kyc", "document", goto("end", "submit"),
                                      config={"documents": [{"type": "pan"}]},
                                      permissions=[{"roles": ["*"], "actions": ["*"]}])))
    assert permitted_actions(docs.nodes["kyc"], boss) == []
    assert not may_act(docs.nodes["kyc"], CUSTOMER, "submit")
    assert permitted_actions(docs.nodes["kyc"], SYSTEM) == ["submit"]


def test_no_matching_edge_lists_the_actions_the_node_accepts() -> None:
    h = Harness(REVIEW)
    h.start()
    boss = Actor("m", "staff", frozenset({"manager"}))
    with pytest.raises(NoMatchingEdge) as caught:
        h.act("teleport", {}, actor=boss)
    assert caught.value.message == ("node 'review' has no edge for action 'teleport' whose "
                                    "condition holds; it accepts: approve, escalate, preview")
    with pytest.raises(NoMatchingEdge, match="action 'approve' whose condition holds"):
        h.act("approve", {"amount": 5000}, actor=boss)  # the condition does not hold
    assert h.at == ["review"]


def test_return_edge_answers_the_caller_and_stays() -> None:
    h = Harness(REVIEW)
    h.start()
    h.act("preview", {"amount": 42})
    assert h.one(Reply).data == {"preview": 42}
    assert (h.at, h.status, h.state.store) == (["review"], "waiting", {"preview": 42})
    h.act("approve", {"amount": 42})
    assert h.status == "succeeded"


def test_acting_where_the_runner_is_not() -> None:
    h = Harness(REVIEW)
    h.start()
    with pytest.raises(InvalidState, match="not at node 'elsewhere'; current nodes: review"):
        h.act("approve", {"amount": 1}, node="elsewhere")
    h.act("approve", {"amount": 1})
    with pytest.raises(InvalidState, match="succeeded"):
        h.act("approve", {"amount": 1})


def test_acting_while_no_node_waits_for_an_action_says_so() -> None:
    h = Harness(flaky(None))
    h.start()  # at the API call, waiting for its answer: nothing there takes an action
    with pytest.raises(InvalidState) as caught:
        h.act("approve", {})
    assert caught.value.message == ("no node is waiting for an action now (the runner is "
                                    f"{h.status}); try again once it waits for one")


def flaky(retry: dict | None, *extra_edges: dict, **fields: object) -> dict:
    extra = [node("rescue", "transform", goto("end"), config={"data": {"rescued": "data.error"}})]
    return design(node("call", "api_call", goto("end"), *extra_edges, retry=retry,
                       config={"url": "https://x"}, **fields),
                  *(extra if extra_edges or "fallback_node" in fields else []))


RETRY = {"maximumAttempts": 3, "initialInterval": 10, "backoffCoefficient": 3}


def test_retries_back_off_exponentially() -> None:
    h = Harness(flaky(RETRY))
    h.start()
    waits = []
    for attempt in (1, 2):
        call = h.one(CallHttp)
        assert call.attempt == attempt
        h.send(EffectFailed(call.effect_id, "502 from bureau"))
        timer = h.one(ScheduleTimer)
        assert (timer.purpose, h.status) == ("retry", "running")
        waits.append(timer.due_at - h.now)
        h.now = timer.due_at
        h.send(TimerFired(timer.effect_id))
    assert waits == [timedelta(seconds=10), timedelta(seconds=30)]  # 10 * 3 ** (n - 1)
    assert h.one(CallHttp).attempt == 3
    keys = {e.idempotency_key for e in h.effects if isinstance(e, CallHttp)}
    assert len(keys) == 3  # one per attempt


def test_failing_the_last_attempt_without_fallback_fails_the_runner() -> None:
    h = Harness(flaky({"maximumAttempts": 2, "initialInterval": 1, "backoffCoefficient": 2}))
    h.start()
    h.send(EffectFailed(h.one(CallHttp).effect_id, "timeout"))
    h.tick(1)
    h.send(TimerFired(h.one(ScheduleTimer).effect_id))
    h.send(EffectFailed(h.one(CallHttp).effect_id, "timeout again"))
    assert h.one(Finished) == Finished("failed", "call: timeout again")
    assert (h.status, h.state.failed_node) == ("failed", "call")
    assert [(r.attempt, r.status, r.error) for r in h.records("call")] == [
        (1, "failed", "timeout"), (2, "failed", "timeout again")]


def test_fallback_edge_after_the_last_attempt() -> None:
    h = Harness(flaky({"maximumAttempts": 2, "initialInterval": 1},
                      goto("rescue", kind="fallback")))
    h.start()
    h.send(EffectFailed(h.one(CallHttp).effect_id, "boom 1"))
    assert h.at == ["call"]  # not yet: a retry is due first
    h.tick(1)
    h.send(TimerFired(h.one(ScheduleTimer).effect_id))
    h.send(EffectFailed(h.one(CallHttp).effect_id, "boom 2"))
    assert (h.status, h.state.store) == ("succeeded", {"rescued": "boom 2"})


def test_fallback_node_shorthand_and_non_retryable_errors_skip_retries() -> None:
    h = Harness(flaky(RETRY, fallback_node="rescue"))
    h.start()
    h.send(EffectFailed(h.one(CallHttp).effect_id, "404 no such PAN", retryable=False))
    assert (h.status, h.state.store) == ("succeeded", {"rescued": "404 no such PAN"})


def test_a_failed_runner_is_retried_from_its_failed_node() -> None:
    h = Harness(flaky(None))
    h.start()
    first = h.one(CallHttp)
    h.send(EffectFailed(first.effect_id, "down"))
    assert h.status == "failed"
    with pytest.raises(InvalidState):
        h.send(EffectSucceeded(first.effect_id, {}))  # stale result of the failed attempt
    h.send(RetryRequested())
    again = h.one(CallHttp)
    assert (again.attempt, h.status, h.state.error) == (1, "running", None)
    assert again.idempotency_key != first.idempotency_key
    h.send(EffectSucceeded(again.effect_id, {"status": 200}))
    assert h.status == "succeeded"
    with pytest.raises(InvalidState, match="no failed node"):
        h.send(RetryRequested())


def test_can_retry_only_with_a_failed_node_to_run_again() -> None:
    h = Harness(flaky(None))
    h.start()
    assert not can_retry(h.state)  # running: nothing failed
    h.send(EffectFailed(h.one(CallHttp).effect_id, "down"))
    assert can_retry(h.state)
    # A failed end node is the runner's outcome, not a node to run again: advance refuses too.
    ended = Harness(design(node("decide", "form", goto("end", "reject"), permissions=OPEN),
                           node("end", "end", config={"status": "failed", "message": "Not eligible"})))
    ended.start()
    ended.act("reject")
    assert (ended.status, ended.state.error, ended.at) == ("failed", "Not eligible", [])
    assert not can_retry(ended.state)
    with pytest.raises(InvalidState, match="no failed node"):
        ended.send(RetryRequested())
    ended.send(CancelRequested(reason="Test cleanup"))
    assert not can_retry(ended.state)


def test_cancel_withdraws_open_work() -> None:
    h = Harness(design(node("ok", "approval", goto("end", "approve"),
                            config={"approvers": {"roles": ["m"]}})))
    h.start()
    opened = h.one(OpenApproval)
    h.send(CancelRequested(reason="customer withdrew"))
    assert h.one(Withdraw) == Withdraw(opened.effect_id, "ok", "approval")
    assert (h.status, h.state.error, h.at) == ("cancelled", "customer withdrew", [])
    assert h.records("ok")[0].status == "cancelled"
    with pytest.raises(InvalidState):
        h.send(CancelRequested())


def test_status_lifecycle_and_execution_records() -> None:
    h = Harness(design(node("ask", "form", goto("call", "submit"),
                            permissions=[{"roles": ["officer"], "actions": ["submit"]}]),
                       node("call", "api_call", goto("end"), config={"url": "https://x"})))
    assert h.status == "queued"
    h.start({"k": 1})
    assert h.status == "waiting"
    h.tick(5)
    h.act("submit", {"amount": 9})
    assert h.status == "running"
    h.tick(2)
    h.send(EffectSucceeded(h.one(CallHttp).effect_id, {"status": 201}))
    assert h.status == "succeeded"
    ask = h.records("ask")[0]
    assert (ask.status, ask.action, ask.actor, ask.input, ask.output, ask.attempt) == (
        "succeeded", "submit", "u-staff", {"k": 1}, {"amount": 9}, 1)
    assert (ask.started_at, ask.finished_at) == (T0, T0 + timedelta(seconds=5))
    call = h.records("call")[0]
    assert (call.output, call.error, call.finished_at) == (
        {"status": 201}, None, T0 + timedelta(seconds=7))
    assert [r.node for r in h.records()] == ["start", "ask", "call", "end"]


def test_stale_or_unknown_effects_are_refused() -> None:
    h = Harness(flaky(None))
    h.start()
    with pytest.raises(InvalidState, match="awaits no such work"):
        h.send(EffectSucceeded("r1:e999", {}))
    with pytest.raises(InvalidState, match="awaits no such work"):
        h.send(TimerFired(h.one(CallHttp).effect_id))  # an http effect is not a timer


def test_migration_to_a_version_with_the_current_nodes() -> None:
    v1 = dict(REVIEW, id="flow", version=1)
    h = Harness(v1)
    h.start()
    v2 = compile_design(dict(design(node("review", "form", goto("end", "approve"),
                                         permissions=[{"roles": ["*"], "actions": ["*"]}])),
                             id="flow", version=2))
    assert check_migration(h.state, v2) == []
    migrate(h.state, v2)
    assert h.state.design_key == "flow:2"
    v3 = compile_design(dict(design(node("triage", "form", goto("end", "go"))),
                             id="flow", version=3))
    assert check_migration(h.state, v3) == ["review"]
    with pytest.raises(DesignError, match="missing there: review"):
        migrate(h.state, v3)


def test_a_loop_that_never_waits_is_stopped() -> None:
    # A zero timer waits for nothing, so validation cannot see this loop; the step limit does.
    h = Harness(design(node("bump", "transform", goto("pause"), config={"data": {"n": "data.n"}}),
                       node("pause", "timer", goto("check"), config={"duration": 0}),
                       node("check", "condition", goto("end", condition="store.stop"),
                            goto("bump"))))
    h.start({"stop": False})
    assert h.status == "failed"
    assert "more than 10000 steps in one event" in h.state.error
