"""Waiting nodes through the services: timers, callbacks, sub-flows, parallel branches, versions."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Company, Runner, Store
from app.services import callbacks, clock, errors, runners, secrets, work
from app.services.principal import Principal
from tests.runners.conftest import form_design


def company_of(flow):
    return db.session.get(Company, flow.company_id)


def test_timer_waits_then_fires_when_due(make_flow, officer):
    flow, _ = make_flow(form_design(first_target="cool_off", after=[
        {"name": "cool_off", "type": "timer", "config": {"duration": "PT1H"},
         "edges": [{"type": "goto", "target_node": "done"}]}]))
    actor = officer(company_of(flow))
    runner = runners.create_runner(actor, flow_id=flow.id, action="submit",
                                   data={"name": "A", "amount": 1}).runner
    assert runner.status == "waiting" and runner.current_nodes == ["cool_off"]
    with clock.travel(timedelta(minutes=59)):
        assert work.fire_due() == 0
    with clock.travel(timedelta(minutes=61)):
        assert work.fire_due() == 1
    db.session.expire_all()
    assert runners.get_runner(actor, runner.id).status == "succeeded"


@pytest.fixture
def callback_runner(make_flow, officer):
    flow, _ = make_flow(form_design(first_target="kyc", after=[
        {"name": "kyc", "type": "callback", "config": {"store_as": "kyc"},
         "edges": [{"type": "goto", "target_node": "done"}]}]))
    actor = officer(company_of(flow))
    secrets.set_secret(Principal.system(flow.company_id), callbacks.SIGNING_SECRET, "whsec_test_key")
    runner = runners.create_runner(actor, flow_id=flow.id, action="submit",
                                   data={"name": "A", "amount": 1}).runner
    token = db.session.scalar(select(callbacks.CallbackToken.token)
                              .where(callbacks.CallbackToken.runner_id == runner.id))
    return runner, token, actor


def signed(token, body, *, event_id="evt-1", key="whsec_test_key", at=None):
    timestamp = str(int(at if at is not None else time.time()))
    raw = json.dumps(body).encode()
    return {"token": token, "event_id": event_id, "timestamp": timestamp, "body": raw,
            "signature": callbacks.sign(key, event_id, timestamp, raw)}


def test_signed_callback_resumes_runner_once(callback_runner):
    runner, token, _ = callback_runner
    assert runner.current_nodes == ["kyc"]
    result = callbacks.receive_callback(**signed(token, {"status": "verified"}))
    assert not result.duplicate and result.runner.status == "succeeded"
    assert db.session.get(Store, runner.store_id).data["kyc"] == {"status": "verified"}
    again = callbacks.receive_callback(**signed(token, {"status": "verified"}))
    assert again.duplicate


@pytest.mark.parametrize("tamper", ["key", "body", "old", "future", "token"])
def test_bad_callbacks_are_refused_with_one_message(callback_runner, tamper):
    runner, token, _ = callback_runner
    kwargs = signed(token, {"status": "verified"})
    if tamper == "key":
        kwargs = signed(token, {"status": "verified"}, key="wrong")
    elif tamper == "body":
        kwargs["body"] = b'{"status": "forged"}'
    elif tamper == "old":
        kwargs = signed(token, {"status": "verified"}, at=time.time() - 301)
    elif tamper == "future":
        kwargs = signed(token, {"status": "verified"}, at=time.time() + 301)
    else:
        kwargs["token"] = "not-a-token"
    with pytest.raises(errors.AuthenticationFailed, match="not valid"):
        callbacks.receive_callback(**kwargs)
    db.session.expire_all()
    assert db.session.get(Runner, runner.id).status == "waiting"


def test_subflow_runs_child_and_maps_result_back(make_flow, make_company, officer):
    company = make_company()
    make_flow({"start_node": "s", "nodes": [
        {"name": "s", "type": "start", "edges": [{"type": "goto", "target_node": "calc"}]},
        {"name": "calc", "type": "transform",
         "config": {"transformer": "template", "data": {"limit": "${store.amount * 2}"}},
         "edges": [{"type": "goto", "target_node": "e"}]},
        {"name": "e", "type": "end"}]}, company=company, slug="limits")
    parent_flow, _ = make_flow(form_design(first_target="child", after=[
        {"name": "child", "type": "subflow",
         "config": {"flow": "limits", "input": {"amount": "store.application.amount"},
                    "output": {"limit": "data.limit"}},
         "edges": [{"type": "goto", "target_node": "done"}]}]), company=company)
    actor = officer(company)
    parent = runners.create_runner(actor, flow_id=parent_flow.id, action="submit",
                                   data={"name": "A", "amount": 21}).runner
    db.session.expire_all()
    parent = runners.get_runner(actor, parent.id)
    child = db.session.scalar(select(Runner).where(Runner.parent_runner_id == parent.id))
    assert child is not None and child.status == "succeeded"
    assert parent.status == "succeeded"
    assert db.session.get(Store, parent.store_id).data["limit"] == 42


def test_parallel_branches_join(make_flow, officer):
    flow, _ = make_flow(form_design(first_target="fork", after=[
        {"name": "fork", "type": "parallel", "config": {"join": "meet"},
         "edges": [{"type": "goto", "target_node": "left"}, {"type": "goto", "target_node": "right"}]},
        {"name": "left", "type": "form", "config": {"schema": {"type": "object"}},
         "permissions": [{"roles": ["credit_officer"], "actions": ["submit"]}],
         "edges": [{"action": "submit", "type": "goto", "target_node": "meet"}]},
        {"name": "right", "type": "form", "config": {"schema": {"type": "object"}},
         "permissions": [{"roles": ["credit_officer"], "actions": ["submit"]}],
         "edges": [{"action": "submit", "type": "goto", "target_node": "meet"}]},
        {"name": "meet", "type": "join", "edges": [{"type": "goto", "target_node": "done"}]}]))
    actor = officer(company_of(flow))
    runner = runners.create_runner(actor, flow_id=flow.id, action="submit",
                                   data={"name": "A", "amount": 1}).runner
    assert sorted(runner.current_nodes) == ["left", "right"]
    half = runners.execute_runner(actor, runner.id, action="submit", node="left", data={}).runner
    assert half.status == "waiting" and "right" in half.current_nodes
    done = runners.execute_runner(actor, runner.id, action="submit", node="right", data={}).runner
    assert done.status == "succeeded"


def test_moving_to_another_version(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(company_of(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    _, v2 = make_flow(form_design(), flow=flow, current=False)
    moved = runners.move_runner_design(actor, runner.id, v2.id)
    assert moved.design_id == v2.id
    lacking = {"start_node": "start", "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end"}]}
    _, v3 = make_flow(lacking, flow=flow, current=False)
    with pytest.raises(errors.Conflict, match="apply"):
        runners.move_runner_design(actor, runner.id, v3.id)
    assert runners.execute_runner(actor, runner.id, action="submit",
                                  data={"name": "A", "amount": 1}).runner.status == "succeeded"
