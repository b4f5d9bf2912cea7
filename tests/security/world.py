"""Two tenants with one of every object, and a signed-in client per role, for the matrix and fuzz tests."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

import app.api.approvals
import app.api.checklists
import app.api.customer_auth
import app.api.documents
import app.services.hooks_registry  # noqa: F401  routes and effect hooks attach on import
from app.models import Company, Customer, Flow, Runner, User
from app.services import (
    approvals,
    checklists,
    customer_auth,
    documents,
    flows,
    outbound_allowlist,
    runners,
    secrets,
    stores,
    tokens,
)
from app.services.demo_flows import load_demo_onboarding
from app.services.principal import Principal
from tests.conftest import AuthActions, csrf_from
from tests.inbox.conftest import APPROVAL, CHECKLIST, DOCUMENTS, chain

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM_DESIGN = {"name": "Form", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "apply"}]},
    {"name": "apply", "type": "form", "stage": "application", "config": {"schema": {"type": "object"}},
     "permissions": [{"roles": ["customer", "credit_officer", "admin"], "actions": ["submit"]}],
     "edges": [{"action": "submit", "type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end", "stage": "closed"}]}
TINY = {"name": "Tiny", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end"}]}


def bodies(p: dict[str, str]) -> dict[str, Any]:
    """A valid body per endpoint, so a refusal is the role check and not input validation."""
    return {
        "flow_api.create_customer_runner": {"flow_id": p["form_flow_id"], "email": "new@example.com"},
        "api_v1.create_approvals": {"resource_id": p["resource_id"], "title": "Manual check"},
        "api_v1.update_approvals": {"title": "Manual check, edited"},
        "api_v1.approve_approval": {"comment": "ok"}, "api_v1.reject_approval": {"comment": "no"},
        "api_v1.create_checklist_template": {"name": "Second checks", "items": [{"key": "a", "title": "A"}]},
        "api_v1.update_checklist_template": {"description": "edited"},
        "api_v1.update_check_list_item": {"done": True},
        "api_v1.exchange_token": {"customer_id": p["customer_id"]},
        "api_v1.refresh_token": {"refresh_token": "not-a-refresh-token"},
        "api_v1.send_otp": {"company": p["company_slug"], "email": "someone@example.com"},
        "api_v1.verify_otp": {"challenge_id": "00000000-0000-0000-0000-000000000000", "code": "000000"},
        "api_v1.create_design": {"flow_id": p["flow_id"], "document": TINY},
        "api_v1.update_design": {"name": "renamed"}, "api_v1.duplicate_design": {},
        "api_v1.create_document": {"type": "salary_slip", "runner_id": p["runner_id"]},
        "api_v1.request_document_reupload": {"note": "blurry"},
        "api_v1.create_flow": {"name": "Another flow"}, "api_v1.update_flow": {"description": "edited"},
        "api_v1.create_runner": {"flow_id": p["form_flow_id"]},
        "api_v1.create_and_execute_runner": {"flow_id": p["form_flow_id"], "action": "submit", "data": {}},
        "api_v1.cancel_runner": {"reason": "matrix"},
        "api_v1.update_runner_design": {"design_id": p["design_id"]},
        "api_v1.execute_runner": {"action": "submit", "data": {}},
        "api_v1.parse_template": {"template": "${store.amount}"},
        "api_v1.update_store": {"data": {"note": "edited"}}, "api_v1.create_store": {"data": {}},
        # The decision form is prefixed per approval (several cards share a page).
        "inbox.decide": {f"a-{p['approval_id']}-decision": "approve", f"a-{p['approval_id']}-comment": "ok"},
        "inbox.tick": {"done": "1"},
        "inbox.reupload": {"note": "blurry"},
        "onboarding.validate_field": {"_field": "full_name", "full_name": "Asha"},
    }


# Endpoints whose body or query names one of company A's objects: a second company must be refused.
BODY_NAMES_TENANT = frozenset({
    "flow_api.create_customer_runner", "api_v1.create_approvals", "api_v1.exchange_token",
    "api_v1.create_design", "api_v1.create_document", "api_v1.create_runner",
    "api_v1.create_and_execute_runner", "api_v1.query_warehouse",
    "api_v1.list_documents"})
# Objects a route acts on when the default would not do: a form waiting for a submit, and an
# approval nobody decided yet (approve comes first and one person decides once).
OVERRIDE = {"api_v1.execute_runner": ("runner_id", "form_runner_id"),
            "api_v1.reject_approval": ("approval_id", "second_approval_id")}
QUERY = {"api_v1.query_warehouse": "flow_id", "api_v1.list_documents": "runner_id"}
ROLES = ("admin", "credit_officer", "viewer", "customer", "anonymous", "other_admin")


@dataclass
class Tenant:
    """Company A: a user per role, an API token per role, a customer, and one of every object."""

    company: Company
    users: dict[str, User]
    api_tokens: dict[str, str]
    customer: Customer
    customer_token: str
    params: dict[str, str]  # URL rule argument -> a real value of this company
    names: list[str] = field(default_factory=list)  # strings that identify this tenant's data


def _runner(actor: Principal, document: dict[str, Any], customer: Customer) -> Runner:
    flow = flows.create_flow(actor, name=f"Matrix flow {len(document['nodes'])}-{time.monotonic_ns()}")
    design = flows.create_design(actor, flow_id=flow.id, document=document)
    assert design.is_valid, flows.validate_design(actor, design.id)
    return runners.create_runner(actor, flow_id=flow.id, customer_id=customer.id,
                                 data={"amount": 600000, "applicant": {"name": "Asha Matrixrao"}}).runner


def build_tenant(make_company: Callable[..., Company], make_user: Callable[..., User],
                 make_token: Callable[..., Any]) -> Tenant:
    company = make_company("Alpha Matrix Lending", "alpha-matrix")
    users = {role: make_user(company, roles=(role,), name=f"Alpha {role}", email=f"alpha-{role}@example.com")
             for role in ("admin", "credit_officer", "viewer")}
    api_tokens = {role: make_token(company, roles=(role,), name=f"alpha {role}")[1]
                  for role in ("admin", "credit_officer", "viewer")}
    # The team pages act on this one, so the matrix never deactivates a caller.
    teammate = make_user(company, roles=("viewer",), name="Alpha Teammate",
                         email="alpha-teammate@example.com")
    maker = Principal.for_user(users["admin"])
    customer = Customer(company_id=company.id, mobile="+919800000001", email="asha.alpha@example.com",
                        name="Asha Alphacustomer")
    from app.extensions import db

    db.session.add(customer)
    db.session.commit()
    template = checklists.create_template(maker, name="Alpha disbursal checks",
                                          items=[{"key": "kyc_ok", "title": "KYC verified"}])
    form_runner = _runner(maker, FORM_DESIGN, customer)
    approval_runner = _runner(maker, chain(APPROVAL), customer)
    second_approval_runner = _runner(maker, chain(APPROVAL), customer)
    checklist_runner = _runner(maker, chain(CHECKLIST, template_id=template.id), customer)
    document_runner = _runner(maker, chain(DOCUMENTS), customer)
    approval = approvals.get_by_resource(maker, "runner", approval_runner.id)
    second_approval = approvals.get_by_resource(maker, "runner", second_approval_runner.id)
    checklist = checklists.checklist_at_stage(maker, checklist_runner.id)
    document = documents.list_documents(maker, document_runner.id)[0]
    officer = Principal.for_user(users["credit_officer"])
    upload = documents.add_file(officer, document.id, filename="pan.pdf", data=PDF)
    store = stores.create_store(maker, data={"alpha_reference": "ALPHA-STORE-7"})
    victim_token = tokens.issue_api_token(maker, company, name="alpha victim", roles=("viewer",))
    secrets.set_secret(maker, "alpha_victim", "alpha-victim-secret-value")
    entry = outbound_allowlist.add_entry(maker, "alpha-core.internal")
    onboarding = load_demo_onboarding(company)
    flow = db.session.get(Flow, checklist_runner.flow_id)
    params = {
        "approval_id": approval.id, "checklist_id": checklist.id, "key": "kyc_ok",
        "document_id": document.id, "file_id": upload.id, "template_id": template.id,
        "design_id": checklist_runner.design_id, "flow_id": checklist_runner.flow_id,
        "runner_id": checklist_runner.id, "store_id": store.id, "resource_type": "runner",
        "resource_id": approval_runner.id, "token_id": victim_token.token.id, "name": "alpha_victim",
        "entry_id": entry.id, "flow_slug": onboarding.slug, "fmt": "csv", "token": "not-a-callback-token",
        "form_runner_id": form_runner.id, "form_flow_id": form_runner.flow_id,
        "customer_id": customer.id, "company_slug": company.slug, "second_approval_id": second_approval.id,
        "user_id": teammate.id,
    }
    names = [company.name, customer.name, customer.email, "Asha Matrixrao", "ALPHA-STORE-7",
             "alpha-core.internal", "Alpha disbursal checks", *(u.email for u in users.values()),
             *(u.name for u in users.values()), teammate.email, teammate.name, approval_runner.ref_id,
             checklist_runner.ref_id, document_runner.ref_id, flow.name if flow else ""]
    return Tenant(company, users, api_tokens, customer, customer_auth.issue_tokens(customer).access_token,
                  params, [n for n in names if n])


@dataclass
class Caller:
    """One role's way in: a browser client (maybe signed in) and the API headers it sends."""

    role: str
    client: FlaskClient
    api_headers: dict[str, str]
    csrf: str | None


def caller_for(role: str, app: Flask, tenant: Tenant, make_company: Callable[..., Company],
               make_user: Callable[..., User], make_token: Callable[..., Any]) -> Caller:
    client = app.test_client()
    headers: dict[str, str] = {}
    if role in ("admin", "credit_officer", "viewer"):
        AuthActions(client).login(tenant.users[role].email)
        headers = {"Authorization": f"Bearer {tenant.api_tokens[role]}"}
        csrf = csrf_from(client.get("/").get_data(as_text=True))
    elif role == "other_admin":
        other = make_company("Beta Other Lending", "beta-other")
        AuthActions(client).login(make_user(other, email="beta-admin@example.com").email)
        headers = {"Authorization": f"Bearer {make_token(other, roles=('admin',))[1]}"}
        csrf = csrf_from(client.get("/").get_data(as_text=True))
    elif role == "customer":
        # The session an OTP sign-in leaves (tests/onboarding covers the sign-in itself).
        with client.session_transaction() as session:
            session["onboard_customer"] = {"co": tenant.company.id, "cid": tenant.customer.id,
                                           "exp": time.time() + 3600}
        headers = {"Authorization": f"Bearer {tenant.customer_token}"}
        csrf = csrf_from(client.get(f"/onboard/{tenant.params['flow_slug']}/step").get_data(as_text=True))
    else:
        csrf = csrf_from(client.get("/login").get_data(as_text=True))
    return Caller(role, client, headers, csrf)


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) but static files, in an order where destructive calls come last."""
    found = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    last = {"auth.logout": 4, "security.end_sessions": 3, "onboarding.sign_out": 2, "security.password": 2,
            "security.disable": 2}
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    return sorted(found, key=lambda rm: (last.get(rm[0].endpoint, 0), order.get(rm[1], 1), rm[0].rule))


def url_for_rule(rule: Rule, params: dict[str, str]) -> str:
    values = {arg: params[arg] for arg in rule.arguments}
    if rule.endpoint in OVERRIDE:
        arg, key = OVERRIDE[rule.endpoint]
        values[arg] = params[key]
    url = rule.build(values, append_unknown=False)[1]
    if rule.endpoint in QUERY:
        url += f"?{QUERY[rule.endpoint]}={params[QUERY[rule.endpoint]]}"
    return url


def is_api(rule: Rule) -> bool:
    return rule.rule.startswith(("/v1/", "/flow/api/"))


def send(caller: Caller, rule: Rule, method: str, url: str, body: Any = None) -> Any:
    """One request as the caller would send it: JSON with its API credentials to the API, a form
    with the session's CSRF token to pages; `body` is the JSON or the form fields."""
    if rule.endpoint == "api_v1.add_files_to_document":
        return caller.client.open(url, method=method, headers=caller.api_headers,
                                  data={"files": (io.BytesIO(PDF), "payslip.pdf")},
                                  content_type="multipart/form-data")
    if is_api(rule):
        return caller.client.open(url, method=method, headers=caller.api_headers,
                                  json=(body if body is not None else {}) if method != "GET" else None)
    if method == "GET":
        return caller.client.open(url, method=method, headers={"Accept": "text/html"})
    data = {**(body or {}), **({"csrf_token": caller.csrf} if caller.csrf else {})}
    return caller.client.open(url, method=method, data=data, headers={"Accept": "text/html"})
