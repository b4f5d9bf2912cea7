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
from app.services import customer_auth, otp, runners
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
                 .where(Flow.slug == flow_slug, Company.deactivated_at.is_(None)))
    if g.get("onboard_company"):
        statement = statement.where(Company.slug == g.onboard_company)
    rows = db.session.execute(statement.limit(2)).all()
    if len(rows) != 1 or rows[0][0].current_design_id is None:
        abort(404)  # unknown, ambiguous without ?company=, or not ready for customers
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
def _step_context(flow: Flow, runner: Runner, element: dict[str, Any] | None, *,
                  values: dict[str, Any] | None = None,
                  errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"flow": flow, "runner": runner, "stages": steps.stages(runner)}
    if element is None:
        title, message = steps.headline(runner)
        context.update(headline=title, message=message, polling=runner.status in ("queued", "running"),
                       poll_seconds=POLL_SECONDS)
        return context
    config = element.get("config") or {}
    context.update(element=element, title=config.get("title") or element["name"].replace("_", " ").title(),
                   actions=steps.customer_actions(element), form_errors=(errors or {}).get("__all__", []))
    if element["type"] == "form":
        context["fields"] = schema_form.fields_for(config.get("schema"), values, errors)
    else:
        context["documents"] = [
            {"type": d["type"], "label": d.get("label") or d["type"].replace("_", " ").title(),
             "required": d.get("required", True), "errors": (errors or {}).get(d["type"], [])}
            for d in config.get("documents") or []]
        context["fields"] = schema_form.fields_for(config.get("schema"), values, errors)
    return context


@bp.get("/<flow_slug>/step")
def step(flow_slug: str) -> Any:
    flow, _, principal = _signed_in(flow_slug)
    runner = _runner(flow, principal)
    element = steps.customer_step(runner)
    template = "onboarding/step.html" if element else "onboarding/progress.html"
    return render_template(template, **_step_context(flow, runner, element))


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
    uploaded = _uploads(principal, runner, element, schema=schema, data=data, errors=errors)
    if not errors:
        if element["type"] == "document":
            data["documents"] = uploaded
        try:
            runners.execute_runner(principal, runner.id, action=action, data=data, node=element["name"])
        except ValidationFailed as error:
            errors = schema_form.errors_from_paths(error.errors) or {"__all__": [error.message]}
        except Conflict:
            flash("That step changed while you were on it. Please check the page again.", "warning")
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
        else:
            return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    context = _step_context(flow, runner, element, values=data, errors=errors)
    return render_template("onboarding/step.html", **context), 422


def _uploads(principal: Principal, runner: Runner, element: dict[str, Any], *,
             schema: dict[str, Any] | None, data: dict[str, Any],
             errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Store the step's files (document slots and file fields); record refusals in `errors`."""
    stored: list[dict[str, Any]] = []
    slots = [(d["type"], bool(d.get("required", True)))
             for d in (element.get("config") or {}).get("documents") or []]
    for name in schema_form.file_fields(schema):
        slots.append((name, name in set((schema or {}).get("required") or [])))
    for name, required in slots:
        upload = request.files.get(f"file-{name}")
        if not schema_form.is_upload(upload):
            if required:
                errors[name] = ["Choose a file to upload."]
            continue
        if errors:
            continue  # no point storing files for a submission that goes back anyway
        try:
            meta = uploads.store_upload(principal, runner, element["name"], name, upload)  # type: ignore[arg-type]
        except uploads.UploadRefused as refused:
            errors[name] = [refused.message]
            continue
        stored.append(meta)
        if name in schema_form.file_fields(schema):
            data[name] = meta["id"]
    return stored


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
                       **_step_context(flow, runner, None))
