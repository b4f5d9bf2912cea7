"""The worked example of docs/designs.md runs down its approve, reject and fallback paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.engine import (
    SYSTEM,
    Actor,
    CallHttp,
    EffectFailed,
    EffectSucceeded,
    Notify,
    OpenApproval,
    PermissionDenied,
    Reply,
    RunCode,
    ScheduleTimer,
    TimerFired,
    prepare_request,
    validate,
)
from tests.engine.helpers import CUSTOMER, Harness

ROOT = Path(__file__).resolve().parents[2]
LOAN = json.loads((ROOT / "docs/examples/loan.json").read_text())
APPLICATION = {"pan": "ABCDE1234F", "email": "asha@example.com", "amount": 120000,
               "tenure_months": 12}
MANAGER = Actor("mgr-1", "staff", frozenset({"credit_manager"}))


def test_the_doc_embeds_the_example_verbatim() -> None:
    doc = (ROOT / "docs/designs.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", doc, flags=re.S)
    assert LOAN in [json.loads(b) for b in blocks if b.lstrip().startswith('{\n  "id"')]
    assert validate(LOAN) == []


def to_approval(h: Harness, score: int) -> None:
    h.start({})
    h.act("quote", APPLICATION, actor=CUSTOMER)
    assert h.one(Reply).data == {"quote": {"amount": 120000, "emi": 11200.0}}
    h.act("submit", APPLICATION, actor=CUSTOMER)
    call = h.one(CallHttp)
    request = prepare_request(h.design, h.state, "credit_check",
                              secrets={"bureau": {"api_key": "k-123"}}, env={}, clock=h.clock)
    assert (request["url"], request["headers"], request["body"]) == (
        "https://bureau.example.com/v1/score", {"X-Api-Key": "k-123"},
        {"pan": "ABCDE1234F", "amount": 120000})
    h.send(EffectSucceeded(call.effect_id, {"status": 200, "headers": {}, "body": {"score": score}}))
    code = h.one(RunCode)
    assert code.store["credit_score"] == score
    h.send(EffectSucceeded(code.effect_id, {"risk": "low", "emi": 11200.0}))


def test_approve_path() -> None:
    h = Harness(LOAN)
    to_approval(h, 780)
    assert (h.status, h.at) == ("waiting", ["approval"])
    assert h.one(OpenApproval).config["title"] == "Loan of 120000 over 12 months"
    with pytest.raises(PermissionDenied):
        h.act("approve", {}, actor=CUSTOMER)
    with pytest.raises(PermissionDenied, match="decided through its approval request"):
        h.act("approve", {}, actor=MANAGER)  # a manager decides in the inbox, not at the node
    h.act("approve", {}, actor=SYSTEM)  # the approval service, once the manager has approved there
    assert h.one(Notify).config["to"] == "asha@example.com"
    assert h.status == "succeeded"
    assert h.state.store["decision"] == "approved"
    assert [r.node for r in h.records()][-3:] == ["approval", "tell_customer", "approved"]


def test_reject_path_by_the_approval_service() -> None:
    h = Harness(LOAN)
    to_approval(h, 700)
    h.act("reject", {"reason": "income too low"}, actor=SYSTEM)
    assert h.status == "succeeded"
    assert h.at == []
    assert {k: h.state.store[k] for k in ("decision", "reject_reason")} == {
        "decision": "rejected", "reject_reason": "income too low"}
    assert h.records("rejected")[0].status == "succeeded"


def test_low_score_is_rejected_without_approval() -> None:
    h = Harness(LOAN)
    to_approval(h, 600)
    assert h.status == "succeeded"
    assert h.state.store["decision"] == "auto_rejected"
    assert h.records("approval") == []


def test_bureau_down_falls_back_to_a_manual_score() -> None:
    h = Harness(LOAN)
    h.start({})
    h.act("submit", APPLICATION, actor=CUSTOMER)
    for _ in range(2):
        h.send(EffectFailed(h.one(CallHttp).effect_id, "bureau timeout"))
        timer = h.one(ScheduleTimer)
        h.now = timer.due_at
        h.send(TimerFired(timer.effect_id))
    h.send(EffectFailed(h.one(CallHttp).effect_id, "bureau timeout"))
    assert (h.at, h.state.store["bureau_error"]) == (["manual_score"], "bureau timeout")
    h.act("submit", {"credit_score": 760}, actor=Actor("uw", "staff", frozenset({"underwriter"})))
    h.send(EffectSucceeded(h.one(RunCode).effect_id, {"risk": "low", "emi": 11200.0}))
    assert h.at == ["approval"]
