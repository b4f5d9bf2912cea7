"""Open a flow to customers (they start it at /onboard/<slug>) or close it, from its Designs page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.models import Flow
from app.services import flow_queries, flows
from app.web.designer import bp
from app.web.designer.forms import ActionForm


@dataclass(frozen=True)
class Unfinished:
    """The flow's customer applications under way: they carry on when the flow is closed."""

    count: int

    @property
    def note(self) -> str:
        if self.count == 0:
            return "No customer has an unfinished application."
        if self.count == 1:
            return "1 unfinished customer application can still be finished."
        return f"{self.count} unfinished customer applications can still be finished."

    def question(self, flow: Flow) -> str:
        """What the Close button asks first (data-confirm)."""
        return f"Close “{flow.name}” to customers? New applications cannot start. {self.note}"


def unfinished_applications(flow: Flow) -> Unfinished:
    return Unfinished(flow_queries.count_unfinished_customer_runners(current_principal(), flow.id))


@bp.context_processor
def _onboarding_context() -> dict[str, Any]:
    # A function, not a number: counted only on the page that shows the Close button.
    return {"unfinished_applications": unfinished_applications}


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
    if flow.customer_onboarding:
        flash(f"Customers can now start “{flow.name}” at {where}.", "success")
    elif (unfinished := unfinished_applications(flow)).count:
        flash(f"“{flow.name}” is closed to customers: new applications cannot start at {where}. "
              f"{unfinished.note} Those customers sign in there to carry on.", "success")
    else:
        flash(f"“{flow.name}” is closed to customers: new applications cannot start at {where}.",
              "success")
    return redirect(url_for("designer.flow", flow_id=flow.id))
