"""Each node type's handler, driven through the engine with state saved between events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engine import (
    SYSTEM,
    AwaitCallback,
    CallbackReceived,
    CallHttp,
    ChildFinished,
    EffectFailed,
    EffectSucceeded,
    Finished,
    InvalidInput,
    InvalidState,
    Notify,
    OpenApproval,
    OpenChecklist,
    RequestDocuments,
    RunCode,
    ScheduleTimer,
    StartChild,
    TimerFired,
    prepare_request,
)
from tests.engine.helpers import OPEN, T0, Harness, design, goto, node


def test_start_validates_and_seeds_the_store() -> None:
    raw = design(node("ask", "form", goto("end", "done"), permissions=OPEN))
    raw["nodes"][0]["config"] = {"schema": {"type": "object", "required": ["contact"]}}
    h = Harness(raw)
    with pytest.raises(InvalidInput) as caught:
        h.start({})
    assert caught.value.errors == [{"path": "contact", "message": "is required"}]
    assert h.status == "queued"
    h.start({"contact": {"email": "a@b.c"}})
    assert (h.status, h.at, h.state.store) == ("waiting", ["ask"], {"contact": {"email": "a@b.c"}})


def test_end_can_fail_the_runner() -> None:
    raw = design(node("end", "end", config={"status": "failed", "message": "not eligible"}))
    h = Harness(raw)
    h.start()
    assert (h.status, h.state.error) == ("failed", "not eligible")
    assert h.one(Finished) == Finished("failed", "not eligible", "end")


def test_an_end_message_is_the_outcome_of_a_succeeded_runner_too() -> None:
    raw = design(node("ask", "form", goto("rejected", "reject"), goto("end", "approve"),
                      permissions=OPEN),
                 node("rejected", "end", config={"status": "succeeded", "message": "Not approved"}))
    h = Harness(raw)
    h.start()
    h.act("reject", {})
    assert (h.status, h.state.error) == ("succeeded", "Not approved")
    assert h.one(Finished) == Finished("succeeded", "Not approved", "rejected")
    plain = Harness(raw)
    plain.start()
    plain.act("approve", {})
    assert (plain.status, plain.state.error) == ("succeeded", None)
    assert plain.one(Finished) == Finished("succeeded", None, "end")


def test_form_validates_input_with_field_paths() -> None:
    schema = {"type": "object", "required": ["amount", "applicant"],
              "properties": {"amount": {"type": "number", "minimum": 1000},
                             "applicant": {"type": "object", "required": ["pan"],
                                           "properties": {"pan": {"type": "string"}}}}}
    h = Harness(design(node("ask", "form", goto("end", "submit"), permissions=OPEN,
                            config={"schema": schema, "store_as": "application"})))
    h.start()
    with pytest.raises(InvalidInput) as caught:
        h.act("submit", {"amount": 5, "applicant": {}})
    assert caught.value.errors == [
        {"path": "amount", "message": "5 is less than the minimum of 1000"},
        {"path": "applicant.pan", "message": "is required"},
    ]
    assert "applicant.pan: is required" in caught.value.message
    assert (h.status, h.at) == ("waiting", ["ask"])
    h.act("submit", {"amount": 5000, "applicant": {"pan": "P"}})
    assert h.status == "succeeded"
    assert h.state.store == {"application": {"amount": 5000, "applicant": {"pan": "P"}}}


def test_form_formats_are_checked_as_the_onboarding_page_checks_them() -> None:
    schema = {"type": "object", "properties": {"born": {"type": "string", "format": "date"},
                                               "email": {"type": "string", "format": "email"}}}
    h = Harness(design(node("ask", "form", goto("end", "submit"), permissions=OPEN,
                            config={"schema": schema})))
    h.start()
    with pytest.raises(InvalidInput) as caught:
        h.act("submit", {"born": "1990-13-45", "email": "not an address"})
    assert caught.value.errors == [
        {"path": "born", "message": "'1990-13-45' is not a 'date'"},
        {"path": "email", "message": "'not an address' is not a 'email'"},
    ]
    h.act("submit", {"born": "1990-12-25", "email": "asha@example.com"})
    assert h.status == "succeeded"


def test_condition_takes_the_first_edge_that_holds() -> None:
    raw = design(node("c", "condition",
                      goto("high", condition="store.score >= 750"),
                      goto("mid", condition="store.score >= 650"),
                      goto("low")),
                 *(node(n, "transform", goto("end"), config={"data": {"band": f"'{n}'"}})
                   for n in ("high", "mid", "low")))
    for score, band in ((800, "high"), (700, "mid"), (100, "low")):
        h = Harness(raw, runner_id=f"r{score}")
        h.start({"score": score})
        assert h.state.store["band"] == band


def test_condition_without_a_matching_edge_fails_the_runner() -> None:
    h = Harness(design(node("c", "condition", goto("end", condition="store.ok"))))
    h.start({"ok": False})
    assert h.status == "failed"
    assert h.state.failed_node == "c"
    assert "no 'auto' edge whose condition holds" in h.state.error


def test_transform_with_jmes_and_template() -> None:
    raw = design(
        node("j", "transform", goto("t"),
             config={"data": {"name": "data.first", "both": {"x": "store.n", "lit": 3}}}),
        node("t", "transform", goto("end"), config={
            "transformer": "template", "data": {"greeting": "Hello ${store.name} #${store.n}"}}))
    h = Harness(raw)
    h.start({"first": "Asha", "n": 2})
    assert h.state.store == {"first": "Asha", "n": 2, "name": "Asha",
                             "both": {"x": 2, "lit": 3}, "greeting": "Hello Asha #2"}


def test_notify_is_rendered_and_does_not_wait() -> None:
    h = Harness(design(node("tell", "notify", goto("end"), config={
        "channel": "email", "to": "${store.email}", "subject": "Hi", "body": "Ref ${RUNNER_ID}"})))
    h.start({"email": "a@b.c"})
    assert h.one(Notify).config == {"channel": "email", "to": "a@b.c", "subject": "Hi",
                                    "body": "Ref r1"}
    assert h.status == "succeeded"


def api_design() -> dict:
    return design(
        node("call", "api_call", goto("end"), config={
            "method": "POST", "url": "${params.base}/score", "query": {"pan": "${store.pan}"},
            "headers": {"Authorization": "Bearer ${SECRET.bureau.key}"},
            "body": {"amount": "${data.amount}"}, "timeout": 5,
            "response_map": {"score": "body.result.score", "code": "status"}}),
        params={"base": "https://bureau.test"})


def test_api_call_emits_ids_only_and_maps_the_result() -> None:
    h = Harness(api_design())
    h.start({"pan": "P1", "amount": 10})
    call = h.one(CallHttp)
    assert (call.node, call.attempt, h.status) == ("call", 1, "running")
    assert call.idempotency_key.startswith("r1:call:")
    request = prepare_request(h.design, h.state, "call", secrets={"bureau": {"key": "s3cr3t"}},
                              env={}, clock=h.clock)
    assert request == {"method": "post", "url": "https://bureau.test/score",
                       "query": {"pan": "P1"}, "headers": {"Authorization": "Bearer s3cr3t"},
                       "body": {"amount": 10}, "body_type": "json", "timeout": 5,
                       "response_type": "json"}
    h.send(EffectSucceeded(call.effect_id, {"status": 200, "headers": {},
                                            "body": {"result": {"score": 780}}}))
    assert (h.status, h.state.store["score"], h.state.store["code"]) == ("succeeded", 780, 200)


def test_prepare_request_masked_never_reads_secrets() -> None:
    class Exploding(dict):
        def __getitem__(self, key: str) -> None:
            raise AssertionError("a masked render read SECRET")

        get = __getitem__

    h = Harness(api_design())
    h.start({"pan": "P1", "amount": 10})
    request = prepare_request(h.design, h.state, "call", secrets=Exploding(), env={},
                              clock=h.clock, masked=True)
    assert request["headers"] == {"Authorization": "Bearer ********"}
    assert "s3cr3t" not in str(h.effects)


def test_code_snippet_result_merges_into_the_store() -> None:
    h = Harness(design(node("code", "code_snippet", goto("end"), config={"code": "def main..."})))
    h.start({"a": 1})
    run = h.one(RunCode)
    assert (run.code, run.data, run.store) == ("def main...", {"a": 1}, {"a": 1})
    h.send(EffectSucceeded(run.effect_id, {"b": 2}))
    assert (h.status, h.state.store) == ("succeeded", {"a": 1, "b": 2})


def test_code_snippet_must_return_a_dict() -> None:
    h = Harness(design(node("code", "code_snippet", goto("end"), config={"code": "x"})))
    h.start()
    h.send(EffectSucceeded(h.one(RunCode).effect_id, [1, 2]))
    assert h.status == "failed"
    assert "must return a dict" in h.state.error


@pytest.mark.parametrize(("type_", "effect", "config", "action"), [
    ("approval", OpenApproval, {"title": "Approve ${store.amount}",
                                "approvers": {"roles": ["manager"]}}, "approve"),
    ("checklist", OpenChecklist, {"title": "KYC for ${store.amount}",
                                  "items": [{"key": "pan", "label": "PAN seen"}]}, "complete"),
    ("document", RequestDocuments, {"title": "Upload for ${store.amount}",
                                    "documents": [{"type": "bank_statement"}]}, "submit"),
])
def test_people_nodes_open_work_and_wait_for_an_action(type_: str, effect: type, config: dict,
                                                       action: str) -> None:
    h = Harness(design(node("n", type_, goto("end", action), config=config)))
    h.start({"amount": 500})
    opened = h.one(effect)
    assert opened.config["title"].endswith("500")
    assert (h.status, h.at, list(h.state.pending)) == ("waiting", ["n"], [opened.effect_id])
    h.act(action, {"ok": True}, actor=SYSTEM)  # the approval/checklist service acts as system
    assert h.status == "succeeded"
    assert h.state.pending == {}


def test_callback_waits_for_its_token() -> None:
    h = Harness(design(node("cb", "callback", goto("end"), config={
        "store_as": "esign", "schema": {"type": "object", "required": ["signed"]}})))
    h.start()
    token = h.one(AwaitCallback).token
    assert len(token) >= 24
    with pytest.raises(InvalidState):
        h.send(CallbackReceived("wrong-token", {"signed": True}))
    with pytest.raises(InvalidInput):
        h.send(CallbackReceived(token, {}))
    h.send(CallbackReceived(token, {"signed": True}))
    assert (h.status, h.state.store) == ("succeeded", {"esign": {"signed": True}})


def test_timer_waits_a_duration_and_refuses_to_fire_early() -> None:
    h = Harness(design(node("wait", "timer", goto("end"), config={"duration": "PT15M"})))
    h.start()
    timer = h.one(ScheduleTimer)
    assert (timer.due_at, timer.purpose, h.status) == (T0 + timedelta(minutes=15), "timer",
                                                       "waiting")
    h.tick(60)
    with pytest.raises(InvalidState, match="not due"):
        h.send(TimerFired(timer.effect_id))
    h.tick(15 * 60)
    h.send(TimerFired(timer.effect_id))
    assert h.status == "succeeded"


def test_timer_until_a_templated_timestamp() -> None:
    raw = design(node("wait", "timer", goto("end"), config={"until": "${store.disburse_at}"}))
    h = Harness(raw)
    h.start({"disburse_at": "2025-03-02T10:00:00+00:00"})
    assert h.one(ScheduleTimer).due_at == T0 + timedelta(days=1, hours=1)
    past = Harness(raw, runner_id="r2")
    past.start({"disburse_at": "2025-01-01T00:00:00"})  # already due: no wait
    assert past.status == "succeeded"


def test_subflow_starts_a_child_and_maps_its_result_back() -> None:
    h = Harness(design(node("kyc", "subflow", goto("end"), config={
        "flow": "kyc-flow", "version": 2, "input": {"pan": "store.pan"},
        "output": {"kyc_status": "data.status", "kyc_ref": "data.ref"}})))
    h.start({"pan": "P1"})
    child = h.one(StartChild)
    assert (child.flow, child.version, child.data, h.status) == ("kyc-flow", 2, {"pan": "P1"},
                                                                 "waiting")
    h.send(ChildFinished(child.effect_id, "succeeded", {"status": "verified", "ref": "K9"}))
    assert h.status == "succeeded"
    assert h.state.store == {"pan": "P1", "kyc_status": "verified", "kyc_ref": "K9"}


def test_subflow_child_failure_fails_the_node() -> None:
    h = Harness(design(node("kyc", "subflow", goto("end"), config={"flow": "kyc"})))
    h.start()
    h.send(ChildFinished(h.one(StartChild).effect_id, "failed", error="PAN mismatch"))
    assert h.status == "failed"
    assert h.state.error == "kyc: child runner failed: PAN mismatch"


def test_a_child_that_cannot_start_fails_the_node() -> None:
    h = Harness(design(node("kyc", "subflow", goto("end"), config={"flow": "gone"})))
    h.start()
    h.send(EffectFailed(h.one(StartChild).effect_id, "no flow 'gone'", retryable=False))
    assert (h.status, h.state.error) == ("failed", "kyc: no flow 'gone'")


def parallel_design() -> dict:
    return design(
        node("fork", "parallel", goto("kyc"), goto("bureau"), config={"join": "meet"}),
        node("kyc", "form", goto("meet", "done", returns={"kyc": "data.ok"}), permissions=OPEN),
        node("bureau", "code_snippet", goto("meet"), config={"code": "x"}),
        node("meet", "join", goto("end")))


def test_parallel_forks_and_join_waits_for_every_branch() -> None:
    h = Harness(parallel_design())
    h.start()
    assert set(h.at) == {"kyc", "bureau"}
    assert h.state.joins == {"meet": 2}
    h.send(EffectSucceeded(h.one(RunCode).effect_id, {"score": 700}))
    assert set(h.at) == {"kyc", "meet"}
    assert h.status == "waiting"
    h.act("done", {"ok": True})  # the only node taking actions: no need to name it
    assert (h.status, h.state.store) == ("succeeded", {"score": 700, "kyc": True})
    assert [r.status for r in h.records("meet")] == ["succeeded"]
