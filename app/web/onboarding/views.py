"""Onboarding step pages: the flow's customer steps one page at a time, their uploads, and progress.

Sign-in lives in sign_in.py; who the customer is and which runner is theirs, in context.py.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import error_page
from app.htmx import htmx, htmx_response, render_page
from app.models import Flow, Runner
from app.services import documents, runners, stores
from app.services.errors import Conflict, ValidationFailed
from app.services.principal import Principal
from app.web.onboarding import bp, schema_form, steps, uploads
from app.web.onboarding.context import runner_for, signed_in

POLL_SECONDS = 2
UPLOAD_PAGES = ("onboarding.submit", "onboarding.upload_again")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """A step's files were refused unread (over the request limit): back to the same step with the
    reason, rather than a bare error page. Nothing of the request was stored."""
    slug = (request.view_args or {}).get("flow_slug")
    if request.endpoint not in UPLOAD_PAGES or not slug:
        return error_page(error)
    flash(uploads.too_large_message(), "danger")
    return redirect(url_for("onboarding.step", flow_slug=slug), 303)


# --- steps ------------------------------------------------------------------------------------------
def _step_context(flow: Flow, runner: Runner, element: dict[str, Any] | None, principal: Principal, *,
                  values: dict[str, Any] | None = None,
                  errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"flow": flow, "runner": runner, "stages": steps.stages(runner),
                               "leaving": steps.leaving_note(runner), **uploads.picker_context()}
    if element is None:
        title, message = steps.headline(runner)
        context.update(headline=title, message=message, outcome=steps.outcome(runner),
                       polling=runner.status in ("queued", "running"), poll_seconds=POLL_SECONDS,
                       upload_errors=errors or {})
        # Asked again while the runner waits elsewhere (its design has no `reupload` edge back to
        # the upload step): the file can still be sent from here.
        context["asked_again"] = [] if runner.status in ("succeeded", "cancelled") else [
            d for d in documents.list_documents(principal, runner.id) if d.status == "reupload"]
        return context
    config = element.get("config") or {}
    actions = steps.customer_actions(element)
    # Continue first: a form's first button is the one Enter presses, and Enter must not go Back.
    context.update(element=element, title=config.get("title") or element["name"].replace("_", " ").title(),
                   actions=[a for a in actions if not steps.leaves_without_data(runner, element, a)],
                   data_free_actions=[a for a in actions if steps.leaves_without_data(runner, element, a)],
                   form_errors=(errors or {}).get("__all__", []))
    context["fields"] = schema_form.fields_for(config.get("schema"), values, errors)
    if element["type"] == "document":
        context["documents"] = uploads.document_slots(principal, runner, element, errors)
        context["asked_again"] = [d for d in context["documents"] if d["status"] == "reupload"]
    return context


@bp.get("/<flow_slug>/step")
def step(flow_slug: str) -> Any:
    flow, _, principal = signed_in(flow_slug)
    runner = runner_for(flow, principal)
    element = steps.customer_step(runner)
    if element is None:
        return render_template("onboarding/progress.html", **_step_context(flow, runner, None, principal))
    # Back on a page filled before: its fields show what was sent then.
    answers = stores.step_answers(principal, runner.id, element["name"])
    return render_template("onboarding/step.html", **_step_context(flow, runner, element, principal,
                                                                  values=answers))


@bp.post("/<flow_slug>/step")
def submit(flow_slug: str) -> Any:
    flow, _, principal = signed_in(flow_slug)
    runner = runner_for(flow, principal)
    element = steps.customer_step(runner)
    if element is None or request.form.get("node") != element["name"]:
        flash("That step was already completed. Here is where things stand now.", "info")
        return redirect(url_for("onboarding.step", flow_slug=flow_slug))
    actions = steps.customer_actions(element)
    # Without a pressed button (Enter in some browsers): the first action that keeps the data.
    action = request.form.get("action") or next(
        (a for a in actions if not steps.leaves_without_data(runner, element, a)), actions[0])
    if action not in actions:
        abort(400)
    if steps.leaves_without_data(runner, element, action):
        return _leave_without_data(flow_slug, principal, runner, element, action)
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


def _leave_without_data(flow_slug: str, principal: Principal, runner: Runner, element: dict[str, Any],
                        action: str) -> Any:
    """Back (or any action whose edges ignore the data): nothing on the page is read or kept."""
    try:
        runners.execute_runner(principal, runner.id, action=action, data={}, node=element["name"])
    except (Conflict, ValidationFailed):
        flash("That step changed while you were on it. Please check the page again.", "warning")
    return redirect(url_for("onboarding.step", flow_slug=flow_slug))


@bp.post("/<flow_slug>/documents/<uuid:document_id>")
def upload_again(flow_slug: str, document_id: Any) -> Any:
    """A document an officer asked for again, sent from the progress page."""
    flow, _, principal = signed_in(flow_slug)
    runner = runner_for(flow, principal)
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
    flow, _, principal = signed_in(flow_slug)
    runner = runner_for(flow, principal)
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
    flow, _, principal = signed_in(flow_slug)
    runner = runner_for(flow, principal)
    if steps.customer_step(runner) is not None:
        target = url_for("onboarding.step", flow_slug=flow_slug)
        return htmx_response("", redirect=target) if htmx else redirect(target)
    return render_page("onboarding/progress.html", "onboarding/_progress.html",
                       **_step_context(flow, runner, None, principal))
