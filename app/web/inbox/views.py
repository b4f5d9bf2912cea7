"""Inbox pages: the list (filters, overdue first or newest), the request page, and the actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.api.documents import send_document_file
from app.auth import current_principal, role_required
from app.extensions import db
from app.htmx import htmx_response, is_partial_request, render_page
from app.models import ApprovalRequest, Checklist, Customer, Flow, Runner
from app.models.base import utcnow
from app.services import approvals, checklists, documents
from app.services.errors import Conflict, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.web.inbox import bp
from app.web.inbox.forms import DecisionForm, FilterForm, ReuploadForm, TickForm, VerifyForm

DECIDERS = ("admin", "credit_officer")
READERS = ("admin", "credit_officer", "viewer")


def decision_form(approval: ApprovalRequest, **kwargs: Any) -> DecisionForm:
    form = DecisionForm(prefix=f"a-{approval.id}", **kwargs)
    if not form.is_submitted():
        form.version.data = approval.version
    return form


def _filters(form: FilterForm, actor: Principal) -> tuple[approvals.Filters, str]:
    flows = db.session.execute(select(Flow.id, Flow.name).where(Flow.company_id == actor.company_id)
                               .order_by(Flow.name)).all()
    form.flow.choices = [SelectChoice("", "All flows"), *[SelectChoice(f.id, f.name) for f in flows]]
    stages = db.session.scalars(select(ApprovalRequest.stage).where(
        ApprovalRequest.company_id == actor.company_id, ApprovalRequest.status == "pending",
        ApprovalRequest.stage.is_not(None)).distinct())
    form.stage.choices = [SelectChoice("", "All stages"), *[SelectChoice(s, s) for s in sorted(stages)]]
    age = form.age.data if form.age.data in {"4", "24", "72", "168"} else ""
    filters = approvals.Filters(flow_id=form.flow.data or None, stage=form.stage.data or None,
                                older_than=timedelta(hours=int(age)) if age else None)
    return filters, form.sort.data if form.sort.data in ("newest", "overdue") else "newest"


def _cards(actor: Principal, filters: approvals.Filters, sort: str) -> dict[str, Any]:
    pending = approvals.actionable(actor, filters, sort=sort)
    tasks = checklists.open_tasks(actor, flow_id=filters.flow_id, stage=filters.stage)
    runner_ids = {a.runner_id for a in pending if a.runner_id} | {c.runner_id for c in tasks}
    found = db.session.scalars(select(Runner).where(Runner.id.in_(runner_ids))) if runner_ids else []
    return {"approvals": pending, "tasks": tasks, "runners": {r.id: r for r in found},
            "forms": {a.id: decision_form(a, formdata=None) for a in pending},
            "tick_form": TickForm(), "now": utcnow(), "count": len(pending) + len(tasks)}


@bp.app_context_processor
def inbox_badge() -> dict[str, Any]:
    """`nav_badges` for base.html: how many items wait in the signed-in officer's inbox."""
    from flask_login import current_user

    def badges() -> dict[str, int]:
        if not current_user.is_authenticated or not current_user.has_role(*DECIDERS):
            return {}
        actor = current_principal()
        return {"inbox.index": approvals.count_actionable(actor) + len(checklists.open_tasks(actor))}

    return {"nav_badges": badges}


@bp.get("/", endpoint="index")
@role_required(*DECIDERS)
def index() -> str:
    actor = current_principal()
    form = FilterForm(request.args)
    filters, sort = _filters(form, actor)
    return render_page("inbox/index.html", "inbox/_list.html", filter_form=form,
                       **_cards(actor, filters, sort))


@bp.get("/approvals/<uuid:approval_id>", endpoint="approval")
@role_required(*READERS)
def approval_page(approval_id: Any) -> str:
    actor = current_principal()
    approval = approvals.get_approval(actor, str(approval_id))
    return render_template("inbox/approval.html", approval=approval, form=decision_form(approval),
                           **_request_context(actor, approval))


def _request_context(actor: Principal, approval: ApprovalRequest) -> dict[str, Any]:
    runner = db.session.get(Runner, approval.runner_id) if approval.runner_id else None
    return {
        "runner": runner,
        "customer": db.session.get(Customer, runner.customer_id) if runner and runner.customer_id else None,
        "flow": db.session.get(Flow, approval.flow_id) if approval.flow_id else None,
        "store_fields": approvals.store_fields(approval),
        "documents": documents.list_documents(actor, runner.id) if runner else [],
        "checklists": list(db.session.scalars(select(Checklist).where(Checklist.runner_id == runner.id)
                                              .order_by(Checklist.created_at))) if runner else [],
        "cannot": approvals.why_not(actor, approval), "now": utcnow(), "tick_form": TickForm(),
        "verify_form": VerifyForm(), "reupload_form": ReuploadForm(),
        "previewable": documents.PREVIEWABLE,
    }


@bp.post("/approvals/<uuid:approval_id>/decide", endpoint="decide")
@role_required(*DECIDERS)
def decide(approval_id: Any) -> Response | str | tuple[str, int]:
    actor = current_principal()
    approval = approvals.get_approval(actor, str(approval_id))
    form = decision_form(approval)
    error = None
    if not form.validate_on_submit():
        error = "Choose approve or reject." if form.decision.errors else "The form expired; reload the page."
    else:
        try:
            approvals.decide(actor, approval.id, decision=form.decision.data, comment=form.comment.data or "",
                             version=form.version.data)
        except ValidationFailed as failure:
            form.comment.errors = [e.message for e in failure.errors] or [failure.message]
            error = failure.message
        except (Conflict, PermissionDenied) as failure:
            error = failure.message
    if is_partial_request():
        if error is None:
            # The decided card leaves the list; the count is refreshed out of band.
            count = approvals.count_actionable(actor) + len(checklists.open_tasks(actor))
            return htmx_response(render_template("inbox/_count.html", count=count, oob=True))
        db.session.expire_all()
        approval = approvals.get_approval(actor, approval.id)
        return render_template("inbox/_approval_card.html", approval=approval, form=form, error=error,
                               runner=db.session.get(Runner, approval.runner_id) if approval.runner_id
                               else None, now=utcnow())
    if error is None:
        verb = "Approved" if form.decision.data == "approve" else "Rejected"
        flash(f"{verb}: {approval.title}.", "success")
        return redirect(url_for("inbox.index"))
    flash(error, "danger")
    db.session.expire_all()
    approval = approvals.get_approval(actor, approval.id)
    return render_template("inbox/approval.html", approval=approval, form=form,
                           **_request_context(actor, approval)), 422


@bp.post("/checklists/<uuid:checklist_id>/items/<key>", endpoint="tick")
@role_required(*DECIDERS)
def tick(checklist_id: Any, key: str) -> Response | str:
    actor = current_principal()
    form = TickForm()
    if not form.validate_on_submit():
        abort(400)
    error = None
    try:
        checklist = checklists.set_item(actor, str(checklist_id), key, done=form.done.data == "1")
    except (Conflict, PermissionDenied) as failure:
        error = failure.message
        db.session.expire_all()
        checklist = checklists.get_checklist(actor, str(checklist_id))
    if is_partial_request():
        return render_template("inbox/_checklist.html", checklist=checklist, tick_form=TickForm(),
                               error=error, actor_roles=actor.roles)
    if error:
        flash(error, "danger")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.get("/documents/<uuid:document_id>/files/<uuid:file_id>", endpoint="file")
@role_required(*READERS)
def file(document_id: Any, file_id: Any) -> Response:
    content = documents.read_file(current_principal(), str(document_id), str(file_id))
    return send_document_file(content, inline=request.args.get("inline") == "1")


@bp.post("/documents/<uuid:document_id>/verify", endpoint="verify")
@role_required(*DECIDERS)
def verify(document_id: Any) -> Response:
    if VerifyForm().validate_on_submit():
        try:
            document = documents.verify(current_principal(), str(document_id))
            flash(f"{document.label} verified.", "success")
        except Conflict as failure:
            flash(failure.message, "danger")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.post("/documents/<uuid:document_id>/reupload", endpoint="reupload")
@role_required(*DECIDERS)
def reupload(document_id: Any) -> Response:
    form = ReuploadForm()
    if form.validate_on_submit():
        document = documents.request_reupload(current_principal(), str(document_id),
                                              note=form.note.data or "")
        flash(f"Asked the customer for {document.label} again.", "success")
    else:
        flash("Say what the customer should fix.", "danger")
    return redirect(request.referrer or url_for("inbox.index"))
