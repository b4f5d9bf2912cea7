"""Inbox fixtures: a company with an admin (the maker) and three officers, and chained designs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

# Routes attach to v1 on import, so import them before any app is built; hooks register likewise.
import app.api.approvals
import app.api.checklists
import app.api.documents
import app.services.hooks_registry  # noqa: F401  used for its import side effects
from app.models import Company, Flow, Runner, User
from app.services import flows, runners
from app.services.principal import Principal

APPROVAL = {
    "name": "credit_approval", "type": "approval", "stage": "decision",
    "config": {
        "title": "Loan of ${store.amount}",
        "approvers": {"roles": ["credit_officer"]},
        "metadata": {
            "levels": [
                {"name": "L1", "approvers": {"roles": ["credit_officer"]}},
                {"name": "L2", "approvers": {"roles": ["credit_officer", "admin"]},
                 "when": "store.amount > 500000"},
            ],
            "due_in_hours": 24,
            "fields": ["applicant.name", "amount"],
        },
    },
    "edges": [{"action": "approve", "type": "goto", "target_node": "NEXT",
               "return": {"data": {"decision": "'approved'"}}},
              {"action": "reject", "type": "goto", "target_node": "rejected",
               "return": {"data": {"decision": "'rejected'", "reject_reason": "data.reason"}}}],
}
CHECKLIST = {
    "name": "disbursal_checks", "type": "checklist", "stage": "disbursal",
    "config": {"title": "Before disbursal", "template_id": "TEMPLATE"},
    "edges": [{"action": "complete", "type": "goto", "target_node": "NEXT"}],
}
DOCUMENTS = {
    "name": "kyc_documents", "type": "document", "stage": "kyc",
    "config": {"title": "KYC", "documents": [{"type": "pan", "label": "PAN card"},
                                             {"type": "photo", "label": "Photo", "required": False}]},
    "permissions": [{"roles": ["customer", "credit_officer"], "actions": ["submit"]}],
    "edges": [{"action": "submit", "type": "goto", "target_node": "NEXT"}],
}
# An approval that sends the runner back to the documents on `reupload`, like the demo's review.
REVIEWED_APPROVAL = copy.deepcopy(APPROVAL)
REVIEWED_APPROVAL["edges"].append({"action": "reupload", "type": "goto", "target_node": "kyc_documents"})
REVIEW = {
    "name": "review", "type": "form", "stage": "review", "config": {},
    "permissions": [{"roles": ["credit_officer"], "actions": ["accept"]}],
    "edges": [{"action": "accept", "type": "goto", "target_node": "NEXT"},
              {"action": "reupload", "type": "goto", "target_node": "kyc_documents"}],
}


def chain(*nodes: dict[str, Any], template_id: str = "") -> dict[str, Any]:
    """start -> nodes... -> done, with a `rejected` end for approval nodes."""
    body = [copy.deepcopy(n) for n in nodes]
    names = [n["name"] for n in body] + ["done"]
    for index, node in enumerate(body):
        for edge in node.get("edges", []):
            if edge["target_node"] == "NEXT":
                edge["target_node"] = names[index + 1]
        if node["type"] == "checklist":
            node["config"]["template_id"] = template_id
    ends = [{"name": "done", "type": "end", "stage": "closed", "config": {"status": "succeeded"}}]
    if any(e["target_node"] == "rejected" for n in body for e in n.get("edges", [])):
        ends.append({"name": "rejected", "type": "end", "stage": "closed", "config": {"status": "succeeded"}})
    return {"name": "Loan", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "config": {},
         "edges": [{"type": "goto", "target_node": names[0]}]},
        *body, *ends]}


@dataclass
class Team:
    company: Company
    admin: User
    officers: list[User]
    viewer: User

    @property
    def maker(self) -> Principal:
        return Principal.for_user(self.admin)

    def officer(self, index: int) -> Principal:
        return Principal.for_user(self.officers[index])


@pytest.fixture
def team(make_company: Callable[..., Company], make_user: Callable[..., User]) -> Team:
    company = make_company()
    return Team(company=company,
                admin=make_user(company, roles=("admin",), name="Ada Admin"),
                officers=[make_user(company, roles=("credit_officer",), name=f"Officer {n}")
                          for n in (1, 2, 3)],
                viewer=make_user(company, roles=("viewer",), name="Vic Viewer"))


@pytest.fixture
def make_flow(team: Team) -> Callable[..., Flow]:
    def make(document: dict[str, Any]) -> Flow:
        flow = flows.create_flow(team.maker, name=f"Loan {id(document)}")
        design = flows.create_design(team.maker, flow_id=flow.id, document=document)
        assert design.is_valid, flows.validate_design(team.maker, design.id)
        return flow

    return make


@pytest.fixture
def start(team: Team) -> Callable[..., Runner]:
    def run(flow: Flow, data: dict[str, Any] | None = None, actor: Principal | None = None,
            **kwargs: Any) -> Runner:
        data = {"amount": 600000, "applicant": {"name": "Asha Rao"}} if data is None else data
        return runners.create_runner(actor or team.maker, flow_id=flow.id, data=data, **kwargs).runner

    return run


@pytest.fixture
def approval_runner(team: Team, make_flow: Callable[..., Flow], start: Callable[..., Runner]
                    ) -> Callable[..., tuple[Runner, Any]]:
    """A runner waiting at `credit_approval` (two levels unless amount <= 500000) and its request."""
    from app.services import approvals

    def make(amount: int = 600000) -> tuple[Runner, Any]:
        runner = start(make_flow(chain(APPROVAL)), {"amount": amount, "applicant": {"name": "Asha Rao"}})
        return runner, approvals.get_by_resource(team.maker, "runner", runner.id)

    return make


@pytest.fixture
def review(team: Team, make_flow: Callable[..., Flow], start: Callable[..., Runner]
           ) -> tuple[Runner, Any, Any]:
    """A runner whose customer uploaded their PAN: it waits at the approval, which may send it back
    to the documents (`reupload`) like the demo's review. Returns the runner, the PAN, the request."""
    from app.services import approvals, documents
    from tests.inbox.test_documents import PNG, customer_principal

    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS, REVIEWED_APPROVAL)),
                   {"amount": 1000, "applicant": {"name": "Asha Rao"}}, customer_id=customer.id)
    pan = next(d for d in documents.list_documents(team.maker, runner.id) if d.doc_type == "pan")
    documents.add_file(customer, pan.id, filename="pan.png", data=PNG)
    return runner, pan, approvals.get_by_resource(team.maker, "runner", runner.id)


def activity_of(runner_id: str) -> list[Any]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ActivityEntry

    return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.runner_id == runner_id)
                                   .order_by(ActivityEntry.at)))


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app: Any, tmp_path: Any) -> None:
    """Uploaded bytes go to the test's own folder, never the repository's instance/."""
    app.config["FLOWDESK_STORAGE_ROOT"] = str(tmp_path / "uploads")
    app.extensions.pop("flowdesk_storage", None)
