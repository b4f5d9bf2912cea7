"""Who and where a customer is on the onboarding pages: the flow, the signed-in customer, their runner.

A signed-in customer is a small record in the (signed) session cookie naming the customer and
company; every page re-reads the runner through the runner services as that customer, so a
customer can only ever see and act on their own runner.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select

from app.extensions import db
from app.models import Company, Customer, Flow, Runner
from app.services import customer_auth, runners
from app.services.principal import Principal
from app.web.onboarding import bp, steps, uploads

CUSTOMER_KEY = "onboard_customer"
CHALLENGE_KEY = "onboard_challenge"
SESSION_SECONDS = 2 * 60 * 60
ONE_FILE_PAGES = ("onboarding.upload_again",)


@bp.url_value_preprocessor
def _remember_company(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Flow slugs are unique per company only; `?company=` disambiguates and then sticks to links.
    g.onboard_company = request.args.get("company") or None
    # Runs before the CSRF check reads the form, so the limit applies to this very request: a step
    # takes as many files as it asks for, each up to the per-file limit (app/config.py).
    if endpoint == "onboarding.submit" and values:
        request.max_content_length = uploads.step_request_limit(_waiting_step(values["flow_slug"]))
    elif endpoint in ONE_FILE_PAGES:
        request.max_content_length = uploads.step_request_limit(None)


@bp.url_defaults
def _keep_company(endpoint: str, values: dict[str, Any]) -> None:
    if g.get("onboard_company") and "company" not in values:
        values["company"] = g.onboard_company


def flow_for(flow_slug: str) -> tuple[Flow, Company]:
    """The customer-facing flow at this address, or 404."""
    statement = (select(Flow, Company).join(Company, Company.id == Flow.company_id)
                 .where(Flow.slug == flow_slug, Flow.customer_onboarding.is_(True),
                        Company.deactivated_at.is_(None)))
    if g.get("onboard_company"):
        statement = statement.where(Company.slug == g.onboard_company)
    rows = db.session.execute(statement.limit(2)).all()
    if len(rows) != 1 or rows[0][0].current_design_id is None:
        abort(404)  # unknown, not opened to customers, ambiguous without ?company=, or not ready
    g.onboard_flow_slug = flow_slug  # error pages link back to this flow's start (app/errors.py)
    return rows[0][0], rows[0][1]


def signed_in_customer(company: Company) -> Customer | None:
    record = session.get(CUSTOMER_KEY)
    if not isinstance(record, dict) or record.get("co") != company.id or record.get("exp", 0) < time.time():
        return None
    customer = db.session.get(Customer, record.get("cid"))
    return customer if customer is not None and customer.company_id == company.id else None


def sign_in_customer(customer: Customer) -> None:
    session.pop(CHALLENGE_KEY, None)
    session[CUSTOMER_KEY] = {"cid": customer.id, "co": customer.company_id,
                             "exp": int(time.time()) + SESSION_SECONDS}


def signed_in(flow_slug: str) -> tuple[Flow, Company, Principal]:
    """The flow and the signed-in customer, or a redirect to the sign-in page."""
    flow, company = flow_for(flow_slug)
    customer = signed_in_customer(company)
    if customer is None:
        abort(redirect(url_for("onboarding.start", flow_slug=flow_slug)))
    return flow, company, customer_auth.customer_principal(customer)


def runner_for(flow: Flow, principal: Principal) -> Runner:
    """The customer's newest runner of the flow, started on first use."""
    runner = steps.newest_runner(principal.company_id, flow.id, principal.id)
    if runner is None:
        customer = db.session.get(Customer, principal.id)
        contact = {"mobile": customer.mobile} if customer and customer.mobile else \
            {"email": customer.email if customer else None}
        runner = runners.create_runner(principal, flow_id=flow.id, customer_id=principal.id,
                                       data={"contact": contact}).runner
    return runner


def _waiting_step(flow_slug: str) -> dict[str, Any] | None:
    """The step the customer's runner waits on, read without starting anything (for sizing)."""
    flow, company = flow_for(flow_slug)
    customer = signed_in_customer(company)
    runner = steps.newest_runner(company.id, flow.id, customer.id) if customer else None
    return steps.customer_step(runner) if runner is not None else None
