"""Designer pages: the flows, one flow's versions, the editor, validation, publishing and copying."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import jsontext
from app.auth import current_principal, role_required
from app.engine import Problem
from app.htmx import is_partial_request, render_page
from app.models import DesignVersion
from app.services import flow_queries, flows
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.web.designer import bp
from app.web.designer.editor import graph_data, palette, pretty, problem_nodes
from app.web.designer.forms import ActionForm, DesignCheckForm, DesignForm, FlowDetailsForm, NewFlowForm

ADMIN = "admin"
FLOWS_PER_PAGE = 50


def _index_page(form: NewFlowForm, status: int = 200) -> tuple[str, int]:
    after = request.args.get("after") or None
    try:
        page = flow_queries.list_flow_summaries(current_principal(), limit=FLOWS_PER_PAGE,
                                                continuation_token=after)
        stale = None
    except ValidationFailed as failure:  # a "More flows" link cut short or kept from an old list
        page = flow_queries.list_flow_summaries(current_principal(), limit=FLOWS_PER_PAGE)
        stale = f"{failure.message} These are the flows from the first."
    return render_template("designer/index.html", form=form, summaries=page.items, stale=stale,
                           next_token=page.continuation_token, older=bool(after) and stale is None), status


@bp.get("/", endpoint="index")
@role_required(ADMIN)
def index() -> tuple[str, int]:
    return _index_page(NewFlowForm(formdata=None))


@bp.post("/flows", endpoint="create_flow")
@role_required(ADMIN)
def create_flow() -> Response | tuple[str, int]:
    form = NewFlowForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    name = (form.name.data or "").strip()
    try:
        design = flows.create_flow_with_first_design(current_principal(), name=name,
                                                     description=form.description.data or "")
    except Conflict as refused:  # a flow of that name exists: said on the field, the text kept
        form.name.errors = [e.message for e in refused.errors if e.path == "name"] or [refused.message]
        return _index_page(form, 409)
    flash(f"Flow “{name}” created. Version 1 is a start node leading to an end node: draw from there.",
          "success")
    return redirect(url_for("designer.edit", design_id=design.id))


@bp.get("/flows/<uuid:flow_id>", endpoint="flow")
@role_required(ADMIN)
def flow_page(flow_id: UUID) -> str:
    return _flow_page(str(flow_id))


def _flow_page(flow_id: str, details_form: FlowDetailsForm | None = None, **context: Any) -> str:
    actor = current_principal()
    flow = flows.get_flow(actor, flow_id)
    details_form = details_form or FlowDetailsForm(formdata=None, data={"name": flow.name,
                                                                        "description": flow.description})
    return render_template("designer/flow.html", flow=flow, action_form=ActionForm(),
                           details_form=details_form, versions=flow_queries.list_versions(actor, flow.id),
                           **context)


@bp.post("/flows/<uuid:flow_id>/details", endpoint="flow_details")
@role_required(ADMIN)
def flow_details(flow_id: UUID) -> Response | tuple[str, int]:
    """Rename a flow or change its description; a refusal keeps what was typed, open at the field."""
    actor = current_principal()
    flow = flows.get_flow(actor, str(flow_id))  # another company's flow: 404 before anything
    form = FlowDetailsForm()
    if not form.validate_on_submit():
        return _flow_page(flow.id, form), 422
    name = (form.name.data or "").strip()
    try:
        flows.update_flow(actor, flow.id, name=name, description=form.description.data or "")
    except Conflict as refused:  # another flow has that name
        form.name.errors = [e.message for e in refused.errors if e.path == "name"] or [refused.message]
        return _flow_page(flow.id, form), 409
    flash(f"Saved the name and description of “{name}”.", "success")
    return redirect(url_for("designer.flow", flow_id=flow.id))


def _editor_context(design: DesignVersion, form: DesignForm, *, problems: list[Problem] | None = None,
                    refusal: ServiceError | None = None, drawn: dict[str, Any] | None = None,
                    unchecked: list[str] | None = None) -> dict[str, Any]:
    """Everything the editor page shows. `drawn` is laid out instead of the saved document when the
    admin's refused or validated text parsed, so the drawing matches the text they kept; `unchecked`
    says why Validate could not check the text."""
    actor = current_principal()
    flow = flows.get_flow(actor, design.flow_id)
    return {
        "flow": flow, "design": design, "form": form, "action_form": ActionForm(),
        "locked": flow_queries.has_runners(actor, design.id),
        "is_current": flow.current_design_id == design.id,
        "graph": graph_data(drawn if drawn is not None else design.document), "palette": palette(),
        "problems": problems, "problem_nodes": problem_nodes(problems), "refusal": refusal,
        "unchecked": unchecked, "unsaved": _differs_from_saved(form, design),
    }


def _differs_from_saved(form: DesignForm, design: DesignVersion) -> bool:
    """Whether the editor shows text that is not the stored version (a refused save, a Validate
    without JavaScript): leaving would lose it, so designer.js warns before the page is left."""
    if (form.name.data or "").strip() != design.name:
        return True
    try:
        return jsontext.loads(form.document.data or "") != design.document
    except ValueError:
        return True


def _saved_form(design: DesignVersion) -> DesignForm:
    return DesignForm(formdata=None, data={"name": design.name, "document": pretty(design.document)})


@bp.get("/<uuid:design_id>", endpoint="edit")
@role_required(ADMIN)
def edit(design_id: UUID) -> str:
    design = flows.get_design(current_principal(), str(design_id))
    return render_template("designer/edit.html", **_editor_context(design, _saved_form(design)))


@bp.post("/<uuid:design_id>", endpoint="save")
@role_required(ADMIN)
def save(design_id: UUID) -> Response | tuple[str, int]:
    actor = current_principal()
    design = flows.get_design(actor, str(design_id))
    form = DesignForm()
    if not form.validate_on_submit():
        return render_template("designer/edit.html", **_editor_context(design, form)), 422
    document = form.parsed_document()
    try:
        saved = flows.update_design(actor, design.id, document=document, name=(form.name.data or "").strip())
    except (Conflict, ValidationFailed) as refused:
        # A refused current version lists its problems as Validate does (node, edge, field) and
        # marks their nodes; the refusal box then offers to keep the text as a new version.
        problems = (flows.check_design_document(actor, design.id, document)
                    if isinstance(refused, ValidationFailed) else None)
        context = _editor_context(flows.get_design(actor, design.id), form, refusal=refused, drawn=document,
                                  problems=problems)
        return render_template("designer/edit.html", **context), 409 if isinstance(refused, Conflict) else 422
    if saved.is_valid:
        flash(f"Saved version {saved.version}.", "success")
    else:
        flash(f"Saved version {saved.version}. It has problems: Validate lists them.", "warning")
    return redirect(url_for("designer.edit", design_id=saved.id))


@bp.post("/<uuid:design_id>/save-as-new", endpoint="save_as_new")
@role_required(ADMIN)
def save_as_new(design_id: UUID) -> Response | tuple[str, int]:
    """Keep the editor's text as the flow's next version, the version it came from unchanged: how
    unfinished work on the current version, or on one runners started on meanwhile, is saved."""
    actor = current_principal()
    design = flows.get_design(actor, str(design_id))
    form = DesignForm()
    if not form.validate_on_submit():
        return render_template("designer/edit.html", **_editor_context(design, form)), 422
    copy = flows.create_design(actor, flow_id=design.flow_id, document=form.parsed_document(),
                               name=(form.name.data or "").strip())
    problems = "" if copy.is_valid else " It has problems: Validate lists them."
    flash(f"Saved as version {copy.version}; version {design.version} is unchanged.{problems}",
          "success" if copy.is_valid else "warning")
    return redirect(url_for("designer.edit", design_id=copy.id))


def _why_unchecked(form: DesignCheckForm) -> list[str]:
    found = [*form.document.errors, *(f"Version name: {error}" for error in form.name.errors)]
    return found or ["The form expired; reload the page and validate again."]


@bp.post("/<uuid:design_id>/validate", endpoint="validate")
@role_required(ADMIN)
def validate(design_id: UUID) -> str | tuple[str, int]:
    """Check the document the editor posts (Save's fields) without saving it: the problems partial
    for htmx; without JavaScript, the editor page with the typed text and the list in it."""
    actor = current_principal()
    design = flows.get_design(actor, str(design_id))
    form = DesignCheckForm()
    if not form.validate_on_submit():
        context = _editor_context(design, form, unchecked=_why_unchecked(form))
        if is_partial_request():
            # htmx swaps only 2xx answers: the box says why nothing was checked; the text stays typed.
            return render_template("designer/_problems.html", **context)
        return render_template("designer/edit.html", **context), 422
    document = form.parsed_document()
    problems = flows.check_design_document(actor, design.id, document)
    return render_page("designer/edit.html", "designer/_problems.html",
                       **_editor_context(design, form, problems=problems, drawn=document))


@bp.post("/<uuid:design_id>/current", endpoint="mark_current")
@role_required(ADMIN)
def mark_current(design_id: UUID) -> Response | tuple[str, int]:
    actor = current_principal()
    design = flows.get_design(actor, str(design_id))
    try:
        flows.mark_current_design(actor, design.id)
    except ValidationFailed as refused:
        # The admin stays where they asked from (the editor posts from=editor), problems listed.
        problems = flows.validate_design(actor, design.id)
        not_current = f"Version {design.version} was not made current. {refused.message}"
        if request.form.get("from") == "editor":
            context = _editor_context(design, _saved_form(design), problems=problems)
            return render_template("designer/edit.html", not_current=not_current, **context), 422
        return _flow_page(design.flow_id, not_current=not_current, refused=design,
                          refused_problems=problems), 422
    flash(f"Version {design.version} is now current: new runners start on it.", "success")
    return redirect(url_for("designer.flow", flow_id=design.flow_id))


@bp.post("/<uuid:design_id>/duplicate", endpoint="duplicate")
@role_required(ADMIN)
def duplicate(design_id: UUID) -> Response:
    actor = current_principal()
    source = flows.get_design(actor, str(design_id))
    copy = flows.duplicate_design(actor, source.id)
    flash(f"Version {copy.version} is a copy of version {source.version}; edit it here.", "success")
    return redirect(url_for("designer.edit", design_id=copy.id))
