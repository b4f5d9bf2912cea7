"""A lender whose runners wait, fail, succeed and are cancelled, an inbox item per kind, and a rival."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import ApprovalRequest, Company, Flow, Runner, User
from app.services import checklists, clock, runners
from tests.inbox.conftest import APPROVAL, CHECKLIST, chain
from tests.web_runners import conftest as runner_fixtures
from tests.web_runners.conftest import FAILS, WAITS, Lender

INSTANT = {"name": "Instant", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end", "stage": "closed"}]}


# The runner pages' lender (a company with one user per role) and its sign-in helper.
lender = runner_fixtures.lender
sign_in = runner_fixtures.sign_in


def age(runner: Runner, days: float) -> None:
    """Make the runner's last change `days` old (as if it had waited that long)."""
    db.session.execute(update(Runner).where(Runner.id == runner.id).values(
        updated_at=clock.now() - timedelta(days=days)))
    db.session.commit()


def fill(lender: Lender) -> dict[str, Any]:
    """Two waiting applications (one untouched for three days), an approval and a checklist waiting,
    one failed, one succeeded today, one cancelled; and a flow with no valid version."""
    admin = lender.admin
    loans = lender.flow(WAITS, name="Home loans")
    fresh, old = lender.start(loans), lender.start(loans)
    age(old, 3)
    gate = lender.flow(FAILS, name="Gate checks")
    failed = lender.start(gate)
    instant = lender.flow(INSTANT, name="Instant top-ups")
    succeeded = lender.start(instant)
    cancelled = runners.cancel_runner(admin, lender.start(loans).id, reason="duplicate")
    approvals_flow = lender.flow(chain(APPROVAL), name="Credit approvals")
    approval_runner = lender.start(approvals_flow, data={"amount": 100000})
    template = checklists.create_template(admin, name="Disbursal checks",
                                          items=[{"key": "kyc_ok", "title": "KYC verified"}])
    checklist_flow = lender.flow(chain(CHECKLIST, template_id=template.id), name="Disbursals")
    checklist_runner = lender.start(checklist_flow)
    draft = Flow(company_id=lender.company.id, name="Draft flow", slug="draft-flow")
    db.session.add(draft)
    db.session.commit()
    return {"fresh": fresh, "old": old, "failed": failed, "succeeded": succeeded, "cancelled": cancelled,
            "approval": approval_runner, "checklist": checklist_runner, "loans": loans, "gate": gate,
            "draft": draft}


def overdue(runner: Runner) -> None:
    """Make the runner's open approval a day past its due time."""
    db.session.execute(update(ApprovalRequest).where(ApprovalRequest.runner_id == runner.id).values(
        due_at=clock.now() - timedelta(days=1)))
    db.session.commit()


@dataclass
class Rival:
    """Another company with runners of every kind, none of which may show for the lender."""

    company: Company
    admin: User


@pytest.fixture
def world(lender: Lender) -> dict[str, Any]:
    return fill(lender)


@pytest.fixture
def rival(make_company: Callable[..., Company], make_user: Callable[..., User]) -> Rival:
    company = make_company("Rival Credit", "rival")
    users = {role: make_user(company, roles=(role,), name=f"Rival {role}") for role in
             ("admin", "credit_officer", "viewer")}
    other = Lender(company, users)
    loans = other.flow(WAITS, name="Rival mortgages")
    for _ in range(3):
        other.start(loans)
    other.start(other.flow(FAILS, name="Rival gate"))
    other.start(other.flow(INSTANT, name="Rival instant"))
    return Rival(company, users["admin"])
