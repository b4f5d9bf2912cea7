"""Onboarding pages: sign in with a one-time code, then fill the flow's customer steps one page at a time.

Public pages. A signed-in customer is a small record in the (signed) session cookie naming the
customer and company; every page re-reads the runner through the runner services as that
customer, so a customer can only ever see and act on their own runner.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.extensions import db
from app.htmx import htmx, htmx_response, render_page
from app.models import Company, Customer, Flow, Runner
from app.services import customer_auth, documents, otp, runners
from app.services.errors import AuthenticationFailed, Conflict, RateLimited, ValidationFailed
from app.services.principal import Principal
from app.web.onboarding import bp, schema_form, steps, uploads
from app.web.onboarding.forms import CodeForm, DestinationForm, ResendForm

CUSTOMER_KEY = "onboard_customer"
CHALLENGE_KEY = "onboard_challenge"
SESSION_SECONDS = 2 * 60 * 60
POLL_SECONDS = 2


# --- context ----------------------------------------------------------------------------------------
@bp.url_value_preprocessor
def _remember_company(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Flow slugs are unique per company only; `?company=` disambiguates and then sticks to links.
    g.onboard_company = request.args.get("company") or None


@bp.url_defaults
def _keep_company(endpoint: str, values: dict[str, Any]) -> None:
    if g.get("onboard_company") and "company" not in values:
        values["company"] = g.onboard_company


def _flow(flow_slug: str) -> tuple[Flow, Company]:
    statement = (select(Flow, Company).join(Company, Company.id == Flow.company_id)
                 .where(Flow.slug == flow_slug, Flow.customer_onboarding.is_(True),
                        Company.deactivated_at.is_(None)))
    if g.get("onboard_company"):
        statement = statement.where(Company.slug == g.onboard_company)
    rows = db.session.execute(statement.limit(2)).all()
    if len(rows) != 1 or rows[0][0].current_design_id is None:
        abort(404)  # unknown, not opened to customers, ambiguous without ?company=, or not ready
    return rows[0][0], rows[0][1]


def _customer(company: Company) -> Customer | None:
    record = session.get(CUSTOMER_KEY)
    if not isinstance(record, dict) or record.get("co") != company.id or record.get("exp", 0) < time.time():
        return None
    customer = db.session.get(Customer, record.get("cid"))
    return customer if customer is not None and customer.company_id == company.id else None


def _signed_in(flow_slug: str) -> tuple[Flow, Company, Principal]:
    flow, company = _flow(flow_slug)
    customer = _customer(company)
    if customer is None:
        abort(redirect(url_for("onboarding.start", flow_slug=flow_slug)))
    return flow, company, customer_auth.customer_principal(customer)


def _runner(flow: Flow, principal: Principal) -> Runner:
    runner = steps.newest_runner(principal.company_id, flow.id, principal.id)
    if runner is None:
        customer = db.session.get(Customer, principal.id)
        contact = {"mobile": customer.mobile} if customer and customer.mobile else \
            {"email": customer.email if customer else None}
        runner = runners.create_runner(principal, flow_id=flow.id, customer_id=principal.id,
                                       data={"contact": contact}).runner
    return runner


def _limited(error: RateLimited) -> dict[str, str]:
    retry = getattr(error, "retry_after", None)
    return {"Retry-After": str(retry)} if retry else {}


# --- sign in ----------------------------------------------------------------------------------------
@bp.route("/<flow_slug>", methods=["GET", "POST"])
def start(flow_slug: str) -> Any:
    flow, company = _flow(flow_slug)
    if _customer(company) is not None:
        return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    form = DestinationForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            sent = otp.send_code(company, form.destination.data or "", ip=request.remote_addr or "")
        except ValidationFailed as error:
            form.destination.errors.append(error.errors[0].message if error.errors else error.message)
            status = 422
        except RateLimited as error:
            form.destination.errors.append(error.message)
            status, headers = 429, _limited(error)
        except otp.OtpUnavailable as error:
            form.destination.errors.append(error.message)
            status = 503
        else:
            session[CHALLENGE_KEY] = {"id": sent.challenge_id, "co": company.id,
                                      "to": sent.destination.value, "masked": sent.destination.masked}
            return redirect(url_for("onboarding.code", flow_slug=flow_slug))
    elif form.is_submitted():
        status = 422
    return render_template("onboarding/start.html", flow=flow, company=company, form=form), status, headers


def _challenge(company: Company) -> dict[str, Any] | None:
    pending = session.get(CHALLENGE_KEY)
    return pending if isinstance(pending, dict) and pending.get("co") == company.id else None


@bp.route("/<flow_slug>/code", methods=["GET", "POST"])
def code(flow_slug: str) -> Any:
    flow, company = _flow(flow_slug)
    pending = _challenge(company)
    if pending is None:
        return redirect(url_for("onboarding.start", flow_slug=flow_slug))
    form = CodeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            destination = otp.verify_code(company.id, pending["id"], form.code.data or "")
        except AuthenticationFailed as error:
            form.code.errors.append(error.message)
            status = 422
        except RateLimited as error:
            form.code.errors.append(error.message)
            status, headers = 429, _limited(error)
        except otp.OtpUnavailable as error:
            form.code.errors.append(error.message)
            status = 503
        else:
            customer = customer_auth.customer_for_destination(company, destination)
            session.pop(CHALLENGE_KEY, None)
            session[CUSTOMER_KEY] = {"cid": customer.id, "co": company.id,
                                     "exp": int(time.time()) + SESSION_SECONDS}
            _runner(flow, customer_auth.customer_principal(customer))
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    elif form.is_submitted():
        status = 422
    return render_template("onboarding/code.html", flow=flow, company=company, form=form,
                           resend_form=ResendForm(), masked=pending.get("masked")), status, headers


@bp.post("/<flow_slug>/resend")
def resend(flow_slug: str) -> Any:
    _, company = _flow(flow_slug)
    pending = _challenge(company)
    form = ResendForm()
    if pending is None or not form.validate_on_submit():
        return redirect(url_for("onboarding.start", flow_slug=flow_slug))
    try:
        sent = otp.send_code(company, pending["to"], ip=request.remote_addr or "")
    except (RateLimited, otp.OtpUnavailable, ValidationFailed) as error:
        flash(error.message, "warning")
    else:
        session[CHALLENGE_KEY] = {**pending, "id": sent.challenge_id}
        flash("We sent you a new code.", "success")
    return redirect(url_for("onboarding.code", flow_slug=flow_slug))


@bp.post("/<flow_slug>/sign-out")
def sign_out(flow_slug: str) -> Response:
    _flow(flow_slug)
    if ResendForm().validate_on_submit():  # any FlaskForm: only its CSRF token matters here
        session.pop(CUSTOMER_KEY, None)
        session.pop(CHALLENGE_KEY, None)
    return redirect(url_for("onboarding.start", flow_slug=flow_slug))


# --- steps ------------------------------------------------------------------------------------------
def _step_context(flow: Flow, runner: Runner, element: dict[str, Any] | None, principal: Principal, *,
                  values: dict[str, Any] | None = None,
                  errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"flow": flow, "runner": runner, "stages": steps.stages(runner)}
    if element is None:
        title, message = steps.headline(runner)
        context.update(headline=title, message=message, polling=runner.status in ("queued", "running"),
                       poll_seconds=POLL_SECONDS, accept=uploads.ACCEPT, upload_help=uploads.help_text(),
                       upload_errors=errors or {})
        # Asked again while the runner waits elsewhere (its design has no `reupload` edge back to
        # the upload step): the file can still be sent from here.
        context["asked_again"] = [] if runner.status in ("succeeded", "cancelled") else [
            d for d in documents.list_documents(principal, runner.id) if d.status == "reupload"]
        return context
    config = element.get("config") or {}
    context.update(element=element, title=config.get("title") or element["name"].replace("_", " ").title(),
                   actions=steps.customer_actions(element), form_errors=(errors or {}).get("__all__", []),
                   accept=uploads.ACCEPT, upload_help=uploads.help_text())
    context["fields"] = schema_form.fields_for(config.get("schema"), values, errors)
    if element["type"] == "document":
        context["documents"] = uploads.document_slots(principal, runner, element, errors)
        context["asked_again"] = [d for d in context["documents"] if d["status"] == "reupload"]
    return context


@bp.get("/<flow_slug>/step")
def step(flow_slug: str) -> Any:
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    element = steps.customer_step(runner)
    template = "onboarding/step.html" if element else "onboarding/progress.html"
    return render_template(template, **_step_context(flow, runner, element, principal))


@bp.post("/<flow_slug>/step")
def submit(flow_slug: str) -> Any:
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    element = steps.customer_step(runner)
    if element is None or request.form.get("node") != element["name"]:
        flash("That step was already completed. Here is where things stand now.", "info")
        return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    actions = steps.customer_actions(element)
    action = request.form.get("action") or actions[0]
    if action not in actions:
        abort(400)
    config = element.get("config") or {}
    schema = config.get("schema")
    data, errors = schema_form.read_form(schema, request.form)
    # Fields that could not even be read keep their own message; the schema judges the rest.
    readable = {k: v for k, v in data.items() if k not in errors}
    errors = {**schema_form.validate(schema, readable), **errors} if schema else errors
    uploads.take_uploads(principal, runner, element, request.files, schema=schema, data=data,
                         errors=errors)
    if not errors:
        try:
            if element["type"] == "document":
                # The documents service submits the node itself once every document it waits for is in.
                if not documents.submit_when_complete(principal, runner.id, element["name"], data=data,
                                                      action=action):
                    errors = {"__all__": ["Some documents are still missing."]}
            else:
                runners.execute_runner(principal, runner.id, action=action, data=data, node=element["name"])
        except ValidationFailed as error:
            errors = schema_form.errors_from_paths(error.errors) or {"__all__": [error.message]}
        except Conflict:
            flash("That step changed while you were on it. Please check the page again.", "warning")
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
        if not errors:
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    context = _step_context(flow, runner, element, principal, values=data, errors=errors)
    return render_template("onboarding/step.html", **context), 422


@bp.post("/<flow_slug>/documents/<uuid:document_id>")
def upload_again(flow_slug: str, document_id: Any) -> Any:
    """A document an officer asked for again, sent from the progress page."""
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    document = documents.get_document(principal, str(document_id))  # NotFound unless the customer's
    if document.runner_id != runner.id or document.status != "reupload":
        flash("That document is not needed any more. Here is where things stand now.", "info")
        return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    upload = request.files.get("file")
    errors = {document.id: ["Choose a file to upload."]}
    if schema_form.is_upload(upload):
        try:
            uploads.add_upload(principal, document, upload)  # type: ignore[arg-type]
        except uploads.UploadRefused as refused:
            errors = {document.id: [refused.message]}
        else:
            flash(f"Thank you, we received your {document.label}.", "success")
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    context = _step_context(flow, runner, None, principal, errors=errors)
    return render_template("onboarding/progress.html", **context), 422


@bp.post("/<flow_slug>/validate")
def validate_field(flow_slug: str) -> str:
    """htmx: check one field as the customer leaves it; answers that field's error list."""
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    element = steps.customer_step(runner)
    name = request.form.get("_field", "")
    schema = (element or {}).get("config", {}).get("schema") if element else None
    if not schema or name not in schema_form.properties(schema):
        abort(404)
    data, errors = schema_form.read_form(schema, request.form, only=name)
    if not errors:
        errors = schema_form.validate(schema, data, only=name)
        if name in (schema.get("required") or []) and name not in data:
            errors = {}  # "required" is for the final submit, not for a field just left empty
    return render_template("onboarding/_field_errors.html", field_id=f"f-{name}",
                           errors=errors.get(name, []))


@bp.get("/<flow_slug>/progress")
def progress(flow_slug: str) -> Any:
    """htmx polling target while the runner works; sends the browser on when a step awaits."""
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    if steps.customer_step(runner) is not None:
        target = url_for("onboarding.step", flow_slug=flow_slug)
        return htmx_response("", redirect=target) if htmx else redirect(target)
    return render_page("onboarding/progress.html", "onboarding/_progress.html",
                       **_step_context(flow, runner, None, principal))
