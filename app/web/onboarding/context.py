"""Who and where a customer is on the onboarding pages: the flow, the signed-in customer, their runner.

A signed-in customer is a small record in the (signed) session cookie naming the customer and
company; every page re-reads the runner through the runner services as that customer, so a
customer can only ever see and act on their own runner.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, g, redirect, request, session, url_for
from sqlalchemy import select

from app.extensions import db
from app.models import Company, Customer, Flow, Runner
from app.services import customer_auth, flow_queries, runners
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


def _flows_at(flow_slug: str, *, open_: bool) -> list[tuple[Flow, Company]]:
    statement = (select(Flow, Company).join(Company, Company.id == Flow.company_id)
                 .where(Flow.slug == flow_slug, Flow.customer_onboarding.is_(open_),
                        Company.deactivated_at.is_(None)))
    if g.get("onboard_company"):
        statement = statement.where(Company.slug == g.onboard_company)
    return [(row[0], row[1]) for row in db.session.execute(statement.limit(2)).all()]


def flow_for(flow_slug: str) -> tuple[Flow, Company]:
    """The customer-facing flow at this address, or 404.

    An open flow wins over a closed one of the same slug, so links without `?company=` that
    worked while only one was open keep pointing at it. A flow closed to customers is there only
    for customers part-way through an application of it (see _may_continue).
    """
    rows = _flows_at(flow_slug, open_=True) or _flows_at(flow_slug, open_=False)
    if len(rows) != 1 or rows[0][0].current_design_id is None:
        abort(404)  # unknown, ambiguous without ?company=, or not ready
    flow, company = rows[0]
    if not flow.customer_onboarding and not _may_continue(flow, company):
        abort(404)  # closed to customers, and nobody (or not this customer) has one to finish
    g.onboard_flow_slug = flow_slug  # error pages link back to this flow's start (app/errors.py)
    g.onboard_brand = company.name  # customers apply to the lender, not to "Flowdesk" (base.html)
    return flow, company


def _may_continue(flow: Flow, company: Company) -> bool:
    """Whether a closed flow's pages are there for whoever asks. A signed-in customer needs an
    application of it (part-way through, or finished: its outcome stays theirs to see); before
    sign-in we cannot tell who asks, so the sign-in pages stay up while any customer has one
    (runner_for refuses the rest once they are signed in)."""
    customer = signed_in_customer(company)
    if customer is not None:
        return steps.newest_runner(flow.company_id, flow.id, customer.id) is not None
    return flow_queries.has_customer_runners(company.id, flow.id)


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
    """The flow and the signed-in customer, or a redirect to the sign-in page.

    The sign-in lasts SESSION_SECONDS from the customer's last page, not from the code: counted
    from the code, a customer who spent the afternoon gathering documents was sent back to the
    sign-in page, unexplained, with the form they had just filled in lost."""
    flow, company = flow_for(flow_slug)
    customer = signed_in_customer(company)
    if customer is None:
        if _timed_out(company):
            session.pop(CUSTOMER_KEY, None)
            lost = ", so what you sent was not saved" if request.method == "POST" else ""
            flash(f"You were signed out after {SESSION_SECONDS // 3600} hours without activity{lost}. "
                  "Sign in again to continue where you left off.", "info")
        abort(redirect(url_for("onboarding.start", flow_slug=flow_slug)))
    sign_in_customer(customer)  # from now
    return flow, company, customer_auth.customer_principal(customer)


def _timed_out(company: Company) -> bool:
    record = session.get(CUSTOMER_KEY)
    return isinstance(record, dict) and record.get("co") == company.id and record.get("exp", 0) < time.time()


def runner_for(flow: Flow, principal: Principal) -> Runner:
    """The customer's newest runner of the flow, started on first use while the flow is open.

    On a flow closed to customers their application carries on (or shows its outcome), but no new
    one starts: create_runner would refuse it too.
    """
    runner = steps.newest_runner(principal.company_id, flow.id, principal.id)
    if runner is not None:
        return runner
    if not flow.customer_onboarding:
        g.pop("onboard_flow_slug", None)  # the same bare "not found" as any closed flow: no way back
        abort(404)
    customer = db.session.get(Customer, principal.id)
    contact = {"mobile": customer.mobile} if customer and customer.mobile else \
        {"email": customer.email if customer else None}
    return runners.create_runner(principal, flow_id=flow.id, customer_id=principal.id,
                                 data={"contact": contact}).runner


def _waiting_step(flow_slug: str) -> dict[str, Any] | None:
    """The step the customer's runner waits on, read without starting anything (for sizing)."""
    flow, company = flow_for(flow_slug)
    customer = signed_in_customer(company)
    runner = steps.newest_runner(company.id, flow.id, customer.id) if customer else None
    return steps.customer_step(runner) if runner is not None else None
