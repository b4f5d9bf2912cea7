"""Durability and concurrency: leases, zombie fencing, restarts, one transition per runner at a time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Execution, Runner, WorkItem
from app.services import clock, errors, runners, work
from app.services.principal import Principal
from tests.effects.stub_server import StubResponse, StubServer
from tests.runners.conftest import form_design


def api_design(url: str) -> dict:
    return form_design(first_target="call", after=[
        {"name": "call", "type": "api_call", "config": {"method": "get", "url": url,
                                                         "response_map": {"answer": "body.answer"}},
         "edges": [{"type": "goto", "target_node": "done"}]}])


@pytest.fixture
def stub(app):
    with StubServer() as server:
        app.config["FLOWDESK_OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.1/32"
        yield server


def company_of(flow):
    from app.models import Company

    return db.session.get(Company, flow.company_id)


def submitted_without_performing(app, flow, actor):
    """Create and submit, but with an executor that performs nothing (the process 'dies')."""
    executor = app.extensions["flowdesk.executor"]
    app.extensions["flowdesk.executor"] = type("Dead", (), {"dispatch": lambda self, *ids: None})()
    try:
        runner = runners.create_runner(actor, flow_id=flow.id).runner
        return runners.execute_runner(actor, runner.id, action="submit",
                                      data={"name": "A", "amount": 1}).runner
    finally:
        app.extensions["flowdesk.executor"] = executor


def succeeded_calls(runner_id):
    return db.session.scalar(select(func.count()).select_from(Execution).where(
        Execution.runner_id == runner_id, Execution.node == "call", Execution.status == "succeeded"))


def test_pending_work_survives_a_restart(app, make_flow, officer, stub):
    flow, _ = make_flow(api_design(stub.url("/answer")))
    actor = officer(company_of(flow))
    runner = submitted_without_performing(app, flow, actor)
    assert runner.status == "running"
    assert db.session.scalar(select(WorkItem.kind).where(WorkItem.runner_id == runner.id)) == "http"
    stub.enqueue("/answer", StubResponse(200, {"answer": 42}))
    assert work.fire_due() >= 1  # a worker started later picks it up
    db.session.expire_all()
    assert runners.get_runner(actor, runner.id).status == "succeeded"
    assert succeeded_calls(runner.id) == 1


def test_interrupted_step_is_picked_up_after_lease_expiry_and_recorded_once(app, make_flow, officer, stub):
    flow, _ = make_flow(api_design(stub.url("/answer")))
    actor = officer(company_of(flow))
    runner = submitted_without_performing(app, flow, actor)
    stub.enqueue("/answer", StubResponse(200, {"answer": 1}), StubResponse(200, {"answer": 2}))
    zombie = work.claim_due(runner_id=runner.id)  # a worker claims it ... and is killed mid-call
    assert len(zombie) == 1
    assert work.claim_due(runner_id=runner.id) == []  # leased: nobody else takes it meanwhile
    with clock.travel(work.LEASE + timedelta(seconds=1)):
        rescuer = work.claim_due(runner_id=runner.id)
        assert len(rescuer) == 1
        work.perform(*rescuer[0])
    # the zombie wakes up and tries to record its result: fenced out, nothing recorded twice
    assert work.perform(*zombie[0]) == []
    db.session.expire_all()
    assert runners.get_runner(actor, runner.id).status == "succeeded"
    assert succeeded_calls(runner.id) == 1
    assert len(stub.requests_to("/answer")) == 1  # the zombie never even performed again


def run_in_threads(app: Flask, count: int, target) -> list:
    barrier, results = threading.Barrier(count), [None] * count

    def worker(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = target()
            except Exception as error:
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_concurrent_executes_exactly_one_advances(app, make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(company_of(flow))
    runner_id = runners.create_runner(actor, flow_id=flow.id).runner.id
    db.session.commit()

    results = run_in_threads(app, 2, lambda: runners.execute_runner(
        actor, runner_id, action="submit", data={"name": "Same", "amount": 3}).runner.status)
    winners = [r for r in results if r == "succeeded"]
    losers = [r for r in results if isinstance(r, errors.Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Execution).where(
        Execution.runner_id == runner_id, Execution.node == "apply")) == 1


def test_concurrent_workers_never_claim_the_same_item(app, make_flow, officer, stub):
    flow, _ = make_flow(api_design(stub.url("/answer")))
    actor = officer(company_of(flow))
    ids = [submitted_without_performing(app, flow, actor).id for _ in range(4)]
    db.session.commit()
    claims = run_in_threads(app, 3, lambda: work.claim_due(limit=10))
    claimed = [item for batch in claims for item, _ in batch]
    assert len(claimed) == len(set(claimed)) == 4
    assert {db.session.get(WorkItem, i).runner_id for i in claimed} == set(ids)


def test_runner_rows_count_only_successful_commits(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(company_of(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    before = db.session.get(Runner, runner.id).version
    with pytest.raises(errors.ValidationFailed):
        runners.execute_runner(actor, runner.id, action="submit", data={})
    db.session.expire_all()
    assert db.session.get(Runner, runner.id).version == before


def test_system_principal_does_not_leak_between_companies(make_flow, make_company):
    flow, _ = make_flow(form_design())
    with pytest.raises(errors.NotFound):
        runners.create_runner(Principal.system(make_company().id), flow_id=flow.id)
