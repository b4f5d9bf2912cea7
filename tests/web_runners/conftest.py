"""A lender with one user per role, and designs whose runners wait, fail, or call out with a secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.models import Company, Customer, Runner, User
from app.services import flows, runners
from app.services.principal import Principal
from tests.conftest import AuthActions, csrf_from

# start -> apply (a form: waits for a person) -> done
WAITS = {"name": "Waits", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "apply"}]},
    {"name": "apply", "type": "form", "stage": "application", "config": {"schema": {"type": "object"}},
     "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["submit"]}],
     "edges": [{"action": "submit", "type": "goto", "target_node": "done",
                "return": {"transformer": "jmes", "data": {"application": "data"}}}]},
    {"name": "done", "type": "end", "stage": "closed"}]}
# start fails until the store says ok (no auto edge holds): retried after a fix, it finishes.
FAILS = {"name": "Gate", "start_node": "start", "nodes": [
    {"name": "start", "type": "start",
     "edges": [{"type": "goto", "target_node": "done", "config": {"condition": "store.ok"}}]},
    {"name": "done", "type": "end", "stage": "closed"}]}


def calls_out(url: str) -> dict[str, Any]:
    """start -> bureau (api_call with a secret in its headers, one attempt) -fallback-> review."""
    return {"name": "Bureau", "start_node": "start",
            "params": {"bureau": {"url": url, "api_key": "${SECRET.bureau.api_key}", "region": "ap-south-1"}},
            "nodes": [
                {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "bureau"}]},
                {"name": "bureau", "type": "api_call", "stage": "underwriting",
                 "config": {"method": "post", "url": "${params.bureau.url}",
                            "headers": {"X-Api-Key": "${params.bureau.api_key}"}, "body": {"n": 1}},
                 "edges": [{"type": "goto", "target_node": "review"},
                           {"type": "fallback", "target_node": "review",
                            "return": {"transformer": "jmes", "data": {"bureau_error": "data.error"}}}]},
                {"name": "review", "type": "form", "stage": "review",
                 "config": {"schema": {"type": "object"}},
                 "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["submit"]}],
                 "edges": [{"action": "submit", "type": "goto", "target_node": "done"}]},
                {"name": "done", "type": "end", "stage": "closed"}]}


@dataclass
class Lender:
    company: Company
    users: dict[str, User]
    defaults: int = 0  # flows made under the default name so far

    @property
    def admin(self) -> Principal:
        return Principal.for_user(self.users["admin"])

    def flow(self, document: dict[str, Any], name: str | None = None) -> Any:
        if name is None:  # flow names are unique in a company: number the later default ones
            self.defaults += 1
            name = "Home loans" + (f" {self.defaults}" if self.defaults > 1 else "")
        flow = flows.create_flow(self.admin, name=name)
        design = flows.create_design(self.admin, flow_id=flow.id, document=document)
        assert design.is_valid, flows.validate_design(self.admin, design.id)
        return flow

    def start(self, flow: Any, *, data: Any = None, customer: Customer | None = None) -> Runner:
        return runners.create_runner(self.admin, flow_id=flow.id, data=data,
                                     customer_id=customer.id if customer else None).runner

    def customer(self, **fields: str) -> Customer:
        from app.extensions import db

        customer = Customer(company_id=self.company.id, **fields)
        db.session.add(customer)
        db.session.commit()
        return customer


@pytest.fixture
def lender(make_company: Callable[..., Company], make_user: Callable[..., User]) -> Lender:
    company = make_company("Kestrel Finance", "kestrel")
    users = {role: make_user(company, roles=(role,), name=f"Kestrel {role}") for role in
             ("admin", "credit_officer", "viewer")}
    return Lender(company, users)


@pytest.fixture
def sign_in(client: Any, lender: Lender) -> Callable[[str], str]:
    """Sign the client in as the lender's user of `role`; returns a CSRF token for POSTs."""
    def sign(role: str) -> str:
        AuthActions(client).login(lender.users[role].email)
        return csrf_from(client.get("/").get_data(as_text=True))

    return sign


HTMX = {"HX-Request": "true"}
