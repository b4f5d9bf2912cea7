"""The loan design end to end: form → api_call (local stub) → code_snippet → condition → approval → end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import ActivityEntry, Company, Execution, Store, WorkItem
from app.models.base import utcnow
from app.services import approvals, clock, runners, secrets, work
from app.services.principal import Principal
from tests.effects.stub_server import StubResponse, StubServer

API_KEY = "sk_live_TOPSECRET_42"


def loan_design(bureau_url: str, *, retry_attempts: int = 3) -> dict:
    return {
        "start_node": "start",
        "params": {"bureau": {"url": bureau_url, "api_key": "${SECRET.bureau.api_key}"}},
        "nodes": [
            {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "application"}]},
            {"name": "application", "type": "form", "stage": "application",
             "config": {"schema": {"type": "object", "required": ["pan", "amount"],
                                   "properties": {"pan": {"type": "string"}, "amount": {"type": "number"}}}},
             "permissions": [{"roles": ["customer", "credit_officer"], "actions": ["submit"]}],
             "edges": [{"action": "submit", "type": "goto", "target_node": "bureau",
                        "return": {"transformer": "jmes", "data": {"application": "data"}}}]},
            {"name": "bureau", "type": "api_call", "stage": "underwriting",
             "config": {"method": "post", "url": "${params.bureau.url}",
                        "headers": {"X-Api-Key": "${params.bureau.api_key}"},
                        "body": {"pan": "${store.application.pan}"},
                        "response_map": {"score": "body.score"}},
             "retry": {"maximumAttempts": retry_attempts, "initialInterval": 10, "backoffCoefficient": 3},
             "edges": [{"type": "goto", "target_node": "risk"},
                       {"type": "fallback", "target_node": "manual_review",
                        "return": {"transformer": "jmes", "data": {"bureau_error": "data.error"}}}]},
            {"name": "risk", "type": "code_snippet", "stage": "underwriting",
             "config": {"code": "def main(data, store):\n    s = store['score']\n"
                                "    return {'risk': 'low' if s >= 700 else 'high'}\n"},
             "edges": [{"type": "goto", "target_node": "route"}]},
            {"name": "route", "type": "condition", "stage": "underwriting",
             "edges": [{"type": "goto", "target_node": "approval",
                        "config": {"condition": "store.risk == 'low'"}},
                       {"type": "goto", "target_node": "declined"}]},
            {"name": "approval", "type": "approval", "stage": "review",
             "config": {"approvers": {"roles": ["credit_officer"]}},
             "edges": [{"action": "approve", "type": "goto", "target_node": "approved"},
                       {"action": "reject", "type": "goto", "target_node": "declined"}]},
            {"name": "manual_review", "type": "form", "stage": "review",
             "config": {"schema": {"type": "object"}},
             "permissions": [{"roles": ["credit_officer"], "actions": ["submit"]}],
             "edges": [{"action": "submit", "type": "goto", "target_node": "approval"}]},
            {"name": "approved", "type": "end", "stage": "closed"},
            {"name": "declined", "type": "end", "stage": "closed"},
        ],
    }


@pytest.fixture
def stub(app):
    with StubServer() as server:
        app.config["FLOWDESK_OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.1/32"
        yield server


@pytest.fixture
def setup(make_flow, make_company, officer, stub):
    company = make_company()
    secrets.set_secret(Principal.system(company.id), "bureau", {"api_key": API_KEY})
    flow, _ = make_flow(loan_design(stub.url("/score")), company=company)
    customer = Principal("customer", "cust-1", company.id, frozenset({"customer"}), "Customer")
    return flow, customer, officer(company), company


def submit_application(flow, customer, officer):
    runner = runners.create_runner(officer, flow_id=flow.id).runner
    return runners.execute_runner(officer, runner.id, action="submit",
                                  data={"pan": "ABCDE1234F", "amount": 250000}).runner


def nodes_visited(runner_id):
    return [e.node for e in db.session.scalars(select(Execution).where(Execution.runner_id == runner_id)
                                               .order_by(Execution.started_at, Execution.id))]


@pytest.mark.parametrize(("decision", "end"), [("approve", "approved"), ("reject", "declined")])
def test_loan_approve_and_reject_paths(setup, stub, officer, decision, end):
    flow, customer, officer_, company = setup
    stub.enqueue("/score", StubResponse(200, {"score": 780}))
    runner = submit_application(flow, customer, officer_)
    assert runner.status == "waiting" and runner.current_nodes == ["approval"]
    store = db.session.get(Store, runner.store_id).data
    assert store["score"] == 780 and store["risk"] == "low"
    sent = stub.requests_to("/score")[0]
    assert sent.header("X-Api-Key") == API_KEY
    assert sent.json() == {"pan": "ABCDE1234F"}
    assert sent.header("Idempotency-Key")

    # Decided in the approval request by another officer (the one who submitted is the maker).
    checker = officer(company)
    request = approvals.get_by_resource(checker, "runner", runner.id)
    approvals.decide(checker, request.id, decision=decision, comment="ok")
    done = runners.get_runner(checker, runner.id)
    assert done.status == "succeeded"
    assert nodes_visited(runner.id)[-2:] == ["approval", end]


def test_high_risk_is_declined_without_approval(setup, stub):
    flow, customer, officer_, _ = setup
    stub.enqueue("/score", StubResponse(200, {"score": 500}))
    runner = submit_application(flow, customer, officer_)
    assert runner.status == "succeeded"
    assert "approval" not in nodes_visited(runner.id)
    assert nodes_visited(runner.id)[-1] == "declined"


def test_failing_call_retries_with_backoff_then_follows_fallback(setup, stub):
    flow, customer, officer_, _ = setup
    stub.enqueue("/score", *[StubResponse(503, {"error": "down"})] * 3)
    runner = submit_application(flow, customer, officer_)
    assert runner.status == "running"  # waiting for its retry timer
    retry = db.session.scalar(select(WorkItem).where(WorkItem.runner_id == runner.id))
    first_due = retry.due_at
    assert timedelta(seconds=9) < first_due - utcnow() <= timedelta(seconds=10)

    assert work.fire_due() == 0  # nothing is due yet
    with clock.travel(first_due - utcnow() + timedelta(seconds=1)):
        work.fire_due()
        second = db.session.scalar(select(WorkItem).where(WorkItem.runner_id == runner.id))
        assert second.due_at - first_due >= timedelta(seconds=29)  # 10 s, then 10*3 s
        with clock.travel(second.due_at - clock.now() + timedelta(seconds=1)):
            work.fire_due()

    db.session.expire_all()
    runner = runners.get_runner(officer_, runner.id)
    assert len(stub.requests_to("/score")) == 3
    assert runner.current_nodes == ["manual_review"]
    attempts = db.session.scalars(select(Execution).where(Execution.runner_id == runner.id,
                                                          Execution.node == "bureau")).all()
    assert sorted((e.attempt, e.status) for e in attempts) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert db.session.get(Store, runner.store_id).data["bureau_error"]


def test_failed_runner_can_be_retried_from_its_failed_node(make_flow, make_company, officer, stub):
    company = make_company()
    secrets.set_secret(Principal.system(company.id), "bureau", {"api_key": API_KEY})
    design = loan_design(stub.url("/score"), retry_attempts=1)
    design["nodes"][2]["edges"] = [{"type": "goto", "target_node": "risk"}]  # no fallback
    design["nodes"] = [n for n in design["nodes"] if n["name"] != "manual_review"]
    flow, _ = make_flow(design, company=company)
    actor = officer(company)
    stub.enqueue("/score", StubResponse(400, {"error": "bad pan"}), StubResponse(200, {"score": 800}))
    runner = submit_application(flow, None, actor)
    assert runner.status == "failed"
    assert "bureau" in (runner.status_reason or "")
    retried = runners.retry_runner(actor, runner.id)
    assert retried.status == "waiting" and retried.current_nodes == ["approval"]


def test_secret_never_reaches_store_executions_activity_or_logs(setup, stub, caplog):
    flow, customer, officer_, _ = setup
    stub.enqueue("/score", StubResponse(500, {"error": "boom"}), StubResponse(200, {"score": 720}))
    with caplog.at_level("DEBUG"):
        runner = submit_application(flow, customer, officer_)
        with clock.travel(timedelta(minutes=5)):
            work.fire_due()
    assert stub.requests_to("/score")[0].header("X-Api-Key") == API_KEY  # it was really used
    dumps = []
    for table in ("runners", "stores", "executions", "activity", "work_items", "company_secrets"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608  fixed names
        dumps.append(repr(rows))
    assert API_KEY not in "".join(dumps)
    assert API_KEY not in caplog.text
    company = db.session.get(Company, runner.company_id)
    assert db.session.scalars(select(ActivityEntry).where(ActivityEntry.company_id == company.id)).all()
