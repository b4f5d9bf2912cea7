"""Runner pages: the filtered list, one runner on its graph (live while it runs), cancel and retry."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.htmx import render_page
from app.models import Runner
from app.services import runner_queries, runners, runtime, stores, templates
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.pagination import Page
from app.services.principal import Principal
from app.web.runners import bp
from app.web.runners.drawing import STATE_LABELS, draw, end_reached
from app.web.runners.forms import CancelForm, FilterForm, RetryForm
from app.web.runners.values import value_rows
from app.web.runners.waiting import Refusal, waiting_part

READERS = ("admin", "credit_officer", "viewer")
OPERATORS = runners.OPERATOR_ROLES  # who may cancel, retry, start and act: one list, in the service
PAGE_SIZE = 25
ACTIVITY_PAGE = 20
EXECUTIONS_PAGE = 50
POLL = "every 3s"


@bp.get("/", endpoint="index")
@role_required(*READERS)
def index() -> str:
    actor = current_principal()
    form = FilterForm(request.args)
    form.set_choices(runner_queries.filter_choices(actor))
    form.validate()
    token = request.args.get("continuation_token") or None
    error = None
    try:
        page = runner_queries.list_runners(actor, form.where(), limit=PAGE_SIZE, continuation_token=token)
    except ValidationFailed as failure:  # a token cut short or from another list
        page, error = Page([], None), f"{failure.message} Start again from the newest runners."
    return render_page("runners/index.html", "runners/_list.html", form=form, found=page, error=error,
                       labels=runner_queries.runner_labels(actor, page.items), older=bool(token),
                       may_start=runners.may_operate(actor))


@bp.get("/<uuid:runner_id>", endpoint="show")
@role_required(*READERS)
def show(runner_id: Any) -> str:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))
    return render_template("runners/show.html", **page_context(actor, runner))


@bp.get("/<uuid:runner_id>/live", endpoint="live")
@role_required(*READERS)
def live(runner_id: Any) -> str:
    """The status and graph fragment the runner page polls; its own trigger stops once final."""
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))
    seen = request.args.get("seen", "")[:16]
    return render_template("runners/_live.html",
                           **_live(actor, runner, seen=seen, seen_at=request.args.get("at", "")[:16]))


@bp.get("/<uuid:runner_id>/activity", endpoint="activity")
@role_required(*READERS)
def activity(runner_id: Any) -> str:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))
    return render_page("runners/activity.html", "runners/_activity.html", runner=runner,
                       **_older(lambda token: runner_queries.list_activity(
                           actor, runner.id, limit=ACTIVITY_PAGE, continuation_token=token)))


@bp.get("/<uuid:runner_id>/executions", endpoint="executions")
@role_required(*READERS)
def executions(runner_id: Any) -> str:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))
    return render_page("runners/executions.html", "runners/_executions.html", runner=runner,
                       **_older(lambda token: runner_queries.list_executions(
                           actor, runner.id, limit=EXECUTIONS_PAGE, continuation_token=token)))


@bp.post("/<uuid:runner_id>/cancel", endpoint="cancel")
@role_required(*OPERATORS)
def cancel(runner_id: Any) -> Response | tuple[str, int]:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))  # another company's runner: 404 first
    form = CancelForm()
    if not form.validate_on_submit():  # the app's CSRFProtect has already checked the token
        # The field says what is wrong (missing, or too long); the alert only points there.
        error = "Not cancelled: see the reason below."
        return render_template("runners/show.html",
                               **page_context(actor, runner, cancel_form=form, action_error=error)), 422
    try:
        runners.cancel_runner(actor, runner.id, reason=form.reason.data.strip())
        flash(f"{runner.ref_id} cancelled.", "success")
    except (Conflict, PermissionDenied, ValidationFailed) as failure:
        flash(failure.message, "danger")
    return redirect(url_for("runners.show", runner_id=runner.id), 303)


@bp.post("/<uuid:runner_id>/retry", endpoint="retry")
@role_required(*OPERATORS)
def retry(runner_id: Any) -> Response:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))
    try:  # RetryForm carries only the CSRF token, which the app's CSRFProtect has already checked
        retried = runners.retry_runner(actor, runner.id)
        flash(f"{runner.ref_id} retried: now {retried.status}.",
              "danger" if retried.status == "failed" else "success")
    except (Conflict, PermissionDenied, ValidationFailed) as failure:
        flash(failure.message, "danger")
    return redirect(url_for("runners.show", runner_id=runner.id), 303)


# --- page parts -----------------------------------------------------------------------------------
def _where(runner: Runner) -> str:
    """A short fingerprint of the nodes the runner is at: a poll compares it with the page's."""
    return hashlib.blake2s("\n".join(sorted(runner.current_nodes or ())).encode(), digest_size=4).hexdigest()


def _live(actor: Principal, runner: Runner, *, seen: str | None = None,
          seen_at: str | None = None) -> dict[str, Any]:
    # The version's document as compiled and cached once per process: this part is polled.
    document = runtime.design_for(runner.design_id).raw
    drawing = draw(document, current=list(runner.current_nodes),
                   statuses=runner_queries.node_statuses(runner), runner_status=runner.status)
    # Said only of a runner that ended by itself: a cancelled one's status_reason is the cancel reason.
    ended = runner.status in ("succeeded", "failed") and not runner.current_nodes
    retry_node = runner_queries.retry_node(runner)
    # A failed runner moves again only if retried; one failed at its end node never will.
    stuck = runner.status == "failed" and retry_node is None
    return {"runner": runner, "drawing": drawing, "state_labels": STATE_LABELS,
            "ended_at": end_reached(drawing) if ended else None, "retry_node": retry_node,
            "polling": runner.status not in runtime.FINAL_STATUSES and not stuck, "poll": POLL,
            # The status and nodes the page was loaded with: once the runner moved on (a new status,
            # or the same status at other nodes, as when a parallel branch's timer fires), the
            # rest of the page, "Waiting for" included, is old and the fragment says so.
            "seen": seen or runner.status, "seen_at": seen_at or _where(runner),
            "changed": bool(seen) and seen != runner.status,
            "moved": bool(seen_at) and seen_at != _where(runner),
            "labels": runner_queries.runner_labels(actor, [runner])[runner.id]}


def _older(read: Any) -> dict[str, Any]:
    """A page of a timeline after `continuation_token`, or the message a bad token deserves."""
    token = request.args.get("continuation_token") or None
    try:
        return {"found": read(token), "error": None}
    except ValidationFailed as failure:
        return {"found": Page([], None), "error": failure.message}


def page_context(actor: Principal, runner: Runner, *, cancel_form: CancelForm | None = None,
                 action_error: str | None = None, refusal: Refusal | None = None) -> dict[str, Any]:
    """Everything the runner page shows (also re-rendered by act_views with a refusal)."""
    return {
        **_live(actor, runner), **waiting_part(actor, runner, refusal),
        "store_rows": value_rows(stores.runner_store(actor, runner.id).data or {}),
        # The API's Get Runner shows params this way: rendered with every SECRET read masked.
        "params": templates.runner_params(runner),
        "activity": runner_queries.list_activity(actor, runner.id, limit=ACTIVITY_PAGE),
        "steps": runner_queries.list_executions(actor, runner.id, limit=EXECUTIONS_PAGE),
        "actions": runner_queries.runner_actions(actor, runner),
        "cancel_form": cancel_form or CancelForm(formdata=None), "retry_form": RetryForm(),
        "action_error": action_error, "design_url": _design_url(actor, runner.design_id),
        "value_rows": value_rows, "parent": _parent(actor, runner),
    }


def _parent(actor: Principal, runner: Runner) -> Runner | None:
    """The runner whose sub-flow node started this one: its page is where this one's end is awaited."""
    if not runner.parent_runner_id:
        return None
    try:
        return runners.get_runner(actor, runner.parent_runner_id)
    except NotFound:  # not one the actor may see
        return None


def _design_url(actor: Principal, design_id: str) -> str | None:
    """A link to the designer, once that blueprint has its editor, for those it lets in."""
    view = current_app.view_functions.get("designer.edit")
    roles = getattr(view, "required_roles", None)  # set by role_required
    if view is None or (roles is not None and not actor.has_role(*roles)):
        return None
    try:
        return url_for("designer.edit", design_id=design_id)
    except BuildError:
        return None
