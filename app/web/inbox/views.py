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
from app.models import ApprovalRequest, Checklist, Document, Flow, Runner
from app.models.base import utcnow
from app.services import approvals, checklists, documents
from app.services.errors import Conflict, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.web.inbox import bp
from app.web.inbox.details import document_context, request_context, reupload_asks
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
    stages = set(db.session.scalars(select(ApprovalRequest.stage).where(
        ApprovalRequest.company_id == actor.company_id, ApprovalRequest.status == "pending",
        ApprovalRequest.stage.is_not(None)).distinct()))
    # Checklist tasks are filtered by stage too: their stages are offered, not only the approvals'.
    stages |= set(db.session.scalars(select(Checklist.stage).where(
        Checklist.company_id == actor.company_id, Checklist.status == "open",
        Checklist.stage.is_not(None)).distinct()))
    # A bookmarked stage with nothing left in it still filters, and the select says so: it showed
    # "All stages" above a list filtered empty. Odd text (a NUL byte PostgreSQL refuses) does not.
    stage = form.stage.data if form.stage.data and form.stage.data.isprintable() else None
    if stage:
        stages.add(stage)
    form.stage.choices = [SelectChoice("", "All stages"), *[SelectChoice(s, s) for s in sorted(stages)]]
    age = form.age.data if form.age.data in {"4", "24", "72", "168"} else ""
    # Only a flow the select offers filters (another company's id or odd text would show "All
    # flows" above an empty list).
    flow_id = form.flow.data if form.flow.data in {f.id for f in flows} else None
    form.flow.data, form.stage.data, form.age.data = flow_id or "", stage or "", age
    filters = approvals.Filters(flow_id=flow_id, stage=stage,
                                older_than=timedelta(hours=int(age)) if age else None)
    return filters, form.sort.data if form.sort.data in ("newest", "overdue") else "newest"


def _cards(actor: Principal, filters: approvals.Filters, sort: str) -> dict[str, Any]:
    pending = approvals.actionable(actor, filters, sort=sort)
    tasks = _tasks(actor, filters)
    runner_ids = {a.runner_id for a in pending if a.runner_id} | {c.runner_id for c in tasks}
    found = db.session.scalars(select(Runner).where(Runner.id.in_(runner_ids))) if runner_ids else []
    return {"approvals": pending, "tasks": tasks, "runners": {r.id: r for r in found},
            "forms": {a.id: decision_form(a, formdata=None) for a in pending},
            "tick_form": TickForm(), "now": utcnow(), "count": len(pending) + len(tasks)}


def _tasks(actor: Principal, filters: approvals.Filters) -> list[Checklist]:
    # The Age filter holds for tasks as for approvals: "Older than a day" listed a new checklist.
    return checklists.open_tasks(actor, flow_id=filters.flow_id, stage=filters.stage,
                                 older_than=filters.older_than)


def _listed_count(actor: Principal) -> int:
    """What the inbox page's "Waiting for you" counts under the filters it shows: its cards send
    them along (hx-include), so a decision on a filtered list does not put the unfiltered total
    above a list that says nothing waits."""
    filters, _ = _filters(FilterForm(request.form), actor)
    return len(approvals.actionable(actor, filters)) + len(_tasks(actor, filters))


def waiting_count(actor: Principal) -> int:
    """What the inbox counts and the top bar's badge shows: decisions plus checklist tasks."""
    return approvals.count_actionable(actor) + len(checklists.open_tasks(actor))


def _refreshed(message: str = "", level: str = "success", *, count: bool = True) -> str:
    """Out-of-band parts of an htmx answer: the page's count, the top bar's badge and the
    status line (an aria-live region) saying what just happened."""
    actor = current_principal()
    return render_template("inbox/_oob.html", count=waiting_count(actor),
                           listed=_listed_count(actor) if count else 0,
                           message=message, level=level, page_count=count)


@bp.app_context_processor
def inbox_badge() -> dict[str, Any]:
    """`nav_badges` for base.html: how many items wait in the signed-in officer's inbox."""
    from flask_login import current_user

    def badges() -> dict[str, int]:
        if not current_user.is_authenticated or not current_user.has_role(*DECIDERS):
            return {}
        return {"inbox.index": waiting_count(current_principal())}

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
                           **request_context(actor, approval))


@bp.post("/approvals/<uuid:approval_id>/decide", endpoint="decide")
@role_required(*DECIDERS)
def decide(approval_id: Any) -> Response | str | tuple[str, int]:
    actor = current_principal()
    approval = approvals.get_approval(actor, str(approval_id))
    form = decision_form(approval)
    before = (approval.current_level, str(approval.level.get("name")))
    error = None
    if not form.validate_on_submit():
        error = "Choose approve or reject." if form.decision.errors else "The form expired; reload the page."
    else:
        try:
            approval = approvals.decide(actor, approval.id, decision=form.decision.data,
                                        comment=form.comment.data or "", version=form.version.data)
        except ValidationFailed as failure:
            form.comment.errors = [e.message for e in failure.errors] or [failure.message]
            error = failure.message
        except (Conflict, PermissionDenied) as failure:
            error = failure.message
    if error is not None:
        approval, error = _shown_again(actor, approval.id, form, error)
    if is_partial_request():
        if error is None:
            # The decided card leaves the list (an empty main answer); the count, the top bar's
            # badge and the status line saying what was decided are swapped in out of band.
            message, level = _decided(before, approval, form.decision.data)
            return htmx_response(_refreshed(message, level))
        return render_template("inbox/_approval_card.html", approval=approval, form=form, error=error,
                               runner=db.session.get(Runner, approval.runner_id) if approval.runner_id
                               else None, now=utcnow())
    if error is None:
        flash(*_decided(before, approval, form.decision.data))
        return redirect(url_for("inbox.index"))
    flash(error, "danger")
    return render_template("inbox/approval.html", approval=approval, form=form,
                           **request_context(actor, approval)), 422


def _shown_again(actor: Principal, approval_id: str, form: DecisionForm,
                 error: str) -> tuple[ApprovalRequest, str]:
    """A refused decision's form is shown again over the request as it is now, typed comment kept.
    Its hidden version becomes the one shown: it kept the stale one, so pressing Approve again on
    the page that now shows the next level was refused again ("changed since you opened it"), and
    the advice to reload re-sent that same stale form."""
    db.session.expire_all()
    approval = approvals.get_approval(actor, approval_id)
    stale = form.version.data is not None and form.version.data != approval.version
    form.version.data, form.version.raw_data = approval.version, None
    if stale and approvals.why_not(actor, approval) is None:
        error = ("This request changed since you opened it; it is shown as it is now. "
                 "Decide again if you still agree.")
    return approval, error


def _decided(before: tuple[int, str], after: ApprovalRequest, decision: str) -> tuple[str, str]:
    """What a decision did, said for the decider: settled the request, or one level of several.
    `before`: the number and name of the level decided, read before deciding."""
    title = f"“{after.title}”"
    if after.status == "pending":
        then = ("it needs more approvals at this level" if after.current_level == before[0]
                else f"level {after.level.get('name')} decides next")
        return f"Approved level {before[1]} of {title}; {then}.", "success"
    message = f"{approvals.verb_of(decision).capitalize()} {title}."
    if after.extra.get("outcome_error"):
        return f"{message} The runner did not move on: {after.extra['outcome_error']}", "warning"
    return message, "success"


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
        in_inbox = request.form.get("in_inbox") == "1"
        part = render_template("inbox/_checklist.html", checklist=checklist, tick_form=TickForm(),
                               error=error, actor_roles=actor.roles, in_inbox=in_inbox, answered=True)
        if error is None and checklist.status == "completed":
            # The last required tick completed it and moved the runner on: say so, and recount.
            part += _refreshed(f"“{checklist.title}” is complete; the runner moved on.", count=in_inbox)
        return part
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
def verify(document_id: Any) -> Response | str:
    actor = current_principal()
    error = None
    if not VerifyForm().validate_on_submit():
        error = "The form expired; reload the page."
    else:
        try:
            documents.verify(actor, str(document_id))
        except Conflict as failure:
            error = failure.message
    document = documents.get_document(actor, str(document_id))
    if is_partial_request() and request.form.get("approval"):
        return _verified_part(actor, document, request.form["approval"], error)
    flash(error or f"{document.label} verified.", "danger" if error else "success")
    return redirect(request.referrer or url_for("inbox.index"))


def _verified_part(actor: Principal, document: Document, approval_id: str, error: str | None) -> str:
    """An htmx verify's answer: the document's part of the request page, the re-upload warning
    near the decision buttons and the status line, both out of band."""
    approval = approvals.get_approval(actor, approval_id)
    if approval.runner_id != document.runner_id:
        abort(400)
    runner = db.session.get(Runner, approval.runner_id)
    context = document_context(actor, approval, runner, reupload_asks(runner))
    document = next(d for d in context["documents"] if d.id == document.id)
    part = render_template("inbox/_document.html", approval=approval, document=document, error=error,
                           answered=True, **context)
    part += render_template("inbox/_reupload_warning.html", oob=True, **context)
    if error is None:
        part += _refreshed(f"{document.label} verified.", count=False)
    return part


@bp.post("/documents/<uuid:document_id>/reupload", endpoint="reupload")
@role_required(*DECIDERS)
def reupload(document_id: Any) -> Response:
    form = ReuploadForm()
    if form.validate_on_submit():
        actor = current_principal()
        document = documents.get_document(actor, str(document_id))
        runner = db.session.get(Runner, document.runner_id) if document.runner_id else None
        left = documents.reupload_node(runner)  # read before: the re-upload moves the runner on
        review = left is not None and db.session.scalar(select(ApprovalRequest.id).where(
            ApprovalRequest.runner_id == document.runner_id, ApprovalRequest.node == left,
            ApprovalRequest.status == "pending").limit(1))
        documents.request_reupload(actor, document.id, note=form.note.data or "")
        moved = (" The approval request was withdrawn: the runner went back to the customer's upload "
                 "step, and the review starts afresh once they upload." if review else
                 " The runner went back to the customer's upload step." if left else "")
        flash(f"Asked the customer for {document.label} again.{moved}", "success")
    else:
        flash("Say what the customer should fix.", "danger")
    return redirect(request.referrer or url_for("inbox.index"))
