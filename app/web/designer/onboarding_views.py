"""Open a flow to customers (they start it at /onboard/<slug>) or close it, from its Designs page."""

from __future__ import annotations

from uuid import UUID

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.services import flows
from app.web.designer import bp
from app.web.designer.forms import ActionForm


@bp.post("/flows/<uuid:flow_id>/onboarding", endpoint="set_onboarding")
@role_required("admin")
def set_onboarding(flow_id: UUID) -> Response:
    actor = current_principal()
    flow = flows.get_flow(actor, str(flow_id))  # another company's flow: 404 before anything
    form = ActionForm()
    wanted = request.form.get("open")
    if not form.validate_on_submit() or wanted not in {"0", "1"}:
        flash("Nothing changed: the form expired or was incomplete. Try again.", "danger")
        return redirect(url_for("designer.flow", flow_id=flow.id))
    flow = flows.set_customer_onboarding(actor, flow.id, open_=wanted == "1")
    where = url_for("onboarding.start", flow_slug=flow.slug)
    flash(f"Customers can now start “{flow.name}” at {where}." if flow.customer_onboarding else
          f"“{flow.name}” is closed to customers: {where} is not found any more. Runners they "
          "already started carry on.", "success")
    return redirect(url_for("designer.flow", flow_id=flow.id))
