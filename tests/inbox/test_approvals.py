"""Approval requests: levels by condition, maker-checker, one decision, the runner moving on."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApprovalDecision, ApprovalRequest, Runner, Store
from app.services import approvals, runners
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from tests.inbox.conftest import APPROVAL, Team, activity_of, chain


def store_of(runner_id: str) -> dict[str, Any]:
    runner = db.session.get(Runner, runner_id, populate_existing=True)
    return db.session.get(Store, runner.store_id, populate_existing=True).data


def test_an_approval_node_opens_a_request_with_levels_sla_and_fields(team: Team, approval_runner):
    runner, request = approval_runner(600000)
    assert runner.status == "waiting" and runner.current_nodes == ["credit_approval"]
    assert request.status == "pending" and request.title == "Loan of 600000"
    assert [level["name"] for level in request.levels] == ["L1", "L2"]
    assert request.stage == "decision" and request.node == "credit_approval"
    assert request.due_at - request.created_at == timedelta(hours=24)
    assert approvals.store_fields(request) == [("applicant.name", "Asha Rao"), ("amount", 600000)]
    assert team.admin.id in request.makers


def test_the_second_level_applies_only_when_its_condition_holds(approval_runner):
    _, small = approval_runner(400000)
    assert [level["name"] for level in small.levels] == ["L1"]


def test_two_officers_approve_both_levels_and_the_runner_takes_the_approve_edge(team: Team, approval_runner):
    runner, request = approval_runner(600000)
    first = approvals.approve(team.officer(0), request.id, comment="Income verified")
    assert first.status == "pending" and first.current_level == 2
    assert store_of(runner.id).get("decision") is None  # still waiting for L2
    final = approvals.approve(team.officer(1), request.id)
    assert final.status == "approved" and final.decided_at is not None
    moved = runners.get_runner(team.maker, runner.id)
    assert moved.status == "succeeded"  # approve -> done
    assert store_of(runner.id)["decision"] == "approved"
    kinds = [(a.kind, a.details.get("level_name")) for a in activity_of(runner.id)
             if a.kind.startswith("approval.")]
    assert ("approval.approved", "L1") in kinds and ("approval.approved", "L2") in kinds
    decisions = [(d.level_name, d.actor_name, d.comment) for d in final.decisions]
    assert decisions == [("L1", "Officer 1", "Income verified"), ("L2", "Officer 2", "")]


def test_a_rejection_needs_a_comment_and_takes_the_reject_edge(team: Team, approval_runner):
    runner, request = approval_runner(600000)
    with pytest.raises(ValidationFailed) as failure:
        approvals.reject(team.officer(0), request.id, comment="   ")
    assert failure.value.errors[0].path == "comment"
    rejected = approvals.reject(team.officer(0), request.id, comment="Bureau score too low")
    assert rejected.status == "rejected"
    assert store_of(runner.id)["reject_reason"] == "Bureau score too low"
    assert runners.get_runner(team.maker, runner.id).current_nodes == []
    entry = next(a for a in activity_of(runner.id) if a.kind == "approval.rejected")
    assert "Bureau score too low" in entry.message and entry.details["comment"] == "Bureau score too low"


def test_the_maker_cannot_decide_even_with_a_deciding_role(team: Team, approval_runner):
    _, request = approval_runner(600000)
    approvals.approve(team.officer(0), request.id)
    # L2 lists admins too, but the admin created the runner.
    with pytest.raises(PermissionDenied, match="created or submitted"):
        approvals.approve(team.maker, request.id)


def test_whoever_approved_an_earlier_level_cannot_decide_the_next(team: Team, approval_runner):
    _, request = approval_runner(600000)
    approvals.approve(team.officer(0), request.id)
    with pytest.raises(PermissionDenied, match="earlier level"):
        approvals.approve(team.officer(0), request.id)
    with pytest.raises(PermissionDenied, match="earlier level"):
        approvals.reject(team.officer(0), request.id, comment="changed my mind")
    assert request.id not in {r.id for r in approvals.actionable(team.officer(0))}
    assert request.id in {r.id for r in approvals.actionable(team.officer(1))}


def test_only_the_levels_roles_or_users_decide(team: Team, approval_runner, make_company, make_user):
    _, request = approval_runner(600000)
    with pytest.raises(PermissionDenied):
        approvals.approve(Principal.for_user(team.viewer), request.id)
    stranger = Principal.for_user(make_user(make_company(), roles=("credit_officer",)))
    with pytest.raises(NotFound):
        approvals.approve(stranger, request.id)
    assert approvals.actionable(stranger) == []


def test_a_named_user_may_decide_a_level(team: Team):
    request = approvals.create_approval(team.maker, resource_type="loan", resource_id="L-1", title="Waiver",
                                        levels=[{"name": "CFO", "approvers": {"users": [team.viewer.id]}}])
    # Every door (the API's 403 too) names the level's deciders by name, never by id.
    with pytest.raises(PermissionDenied) as refused:
        approvals.approve(team.officer(0), request.id)
    assert refused.value.message == f"Level CFO is for {team.viewer.name}; you cannot decide it."
    assert team.viewer.id not in refused.value.message
    decided = approvals.approve(Principal.for_user(team.viewer), request.id, comment="ok")
    assert decided.status == "approved"


def test_deciding_twice_records_one_decision_and_answers_a_conflict(team: Team, approval_runner):
    _, request = approval_runner(400000)
    approvals.approve(team.officer(0), request.id)
    with pytest.raises(Conflict, match="already approved"):
        approvals.approve(team.officer(1), request.id)
    with pytest.raises(Conflict):
        approvals.reject(team.officer(1), request.id, comment="late")
    count = db.session.scalar(select(func.count()).select_from(ApprovalDecision)
                              .where(ApprovalDecision.request_id == request.id))
    assert count == 1


def test_a_decision_on_a_stale_version_is_refused(team: Team, approval_runner):
    _, request = approval_runner(600000)
    seen = request.version
    approvals.approve(team.officer(0), request.id)
    with pytest.raises(Conflict, match="changed since"):
        approvals.approve(team.officer(1), request.id, version=seen)


def test_concurrent_decisions_record_exactly_one(app: Flask, team: Team, approval_runner):
    """Two officers press the button at the same moment: one decision, one clear conflict."""
    _, request = approval_runner(400000)
    officers = [team.officer(1), team.officer(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(actor: Principal, decision: str) -> None:
        with app.app_context():
            try:
                current = approvals.get_approval(actor, request.id)
                barrier.wait(timeout=10)  # both have read the same version before either writes
                approvals.decide(actor, current.id, decision=decision, comment="race",
                                 version=current.version)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(officers[0], "approve")),
               threading.Thread(target=decide, args=(officers[1], "reject"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    db.session.expire_all()
    decisions = db.session.scalars(
        select(ApprovalDecision).where(ApprovalDecision.request_id == request.id)).all()
    assert len(decisions) == 1
    final = db.session.get(ApprovalRequest, request.id)
    assert final.status == ("approved" if decisions[0].decision == "approve" else "rejected")


def test_cancelling_the_runner_withdraws_the_request(team: Team, approval_runner):
    runner, request = approval_runner(600000)
    runners.cancel_runner(team.maker, runner.id, reason="customer withdrew")
    db.session.expire_all()
    assert approvals.get_approval(team.maker, request.id).status == "withdrawn"
    assert approvals.actionable(team.officer(0)) == []
    with pytest.raises(Conflict):
        approvals.approve(team.officer(0), request.id)


def test_inbox_order_newest_or_most_overdue_first_and_filters(team: Team, approval_runner):
    _, older = approval_runner(400000)
    _, newer = approval_runner(400000)
    db.session.execute(ApprovalRequest.__table__.update().where(ApprovalRequest.id == older.id)
                       .values(due_at=older.created_at - timedelta(hours=1),
                               created_at=older.created_at - timedelta(hours=30)))
    db.session.commit()
    officer = team.officer(0)
    assert [r.id for r in approvals.actionable(officer)] == [newer.id, older.id]
    assert [r.id for r in approvals.actionable(officer, sort="overdue")] == [older.id, newer.id]
    assert db.session.get(ApprovalRequest, older.id).is_overdue()
    aged = approvals.actionable(officer, approvals.Filters(older_than=timedelta(hours=24)))
    assert [r.id for r in aged] == [older.id]
    assert approvals.actionable(officer, approvals.Filters(stage="nowhere")) == []
    assert len(approvals.actionable(officer, approvals.Filters(stage="decision"))) == 2


def test_a_runner_that_cannot_move_keeps_the_decision_and_says_why(team: Team, make_flow, start):
    # An approval node without a reject edge: the decision is kept, the failure explained.
    design = chain(APPROVAL)
    design["nodes"][1]["edges"] = design["nodes"][1]["edges"][:1]
    design["nodes"] = [n for n in design["nodes"] if n["name"] != "rejected"]
    runner = start(make_flow(design), {"amount": 1})
    request = approvals.get_by_resource(team.maker, "runner", runner.id)
    decided = approvals.reject(team.officer(0), request.id, comment="no")
    assert decided.status == "rejected"
    assert decided.extra.get("outcome_error")
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["credit_approval"]
