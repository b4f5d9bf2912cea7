"""The demo outbox: codes the console sender delivered, for an admin trying the onboarding flow."""

from __future__ import annotations

from app.auth import current_principal, role_required
from app.htmx import render_page
from app.services import senders
from app.web.onboarding import outbox_bp


@outbox_bp.get("/")
@role_required("admin")
def index() -> str:
    """Only registered in demo mode: anywhere else, codes must not be readable in the app."""
    messages = senders.outbox(current_principal().company_id)
    return render_page("onboarding/outbox.html", "onboarding/_outbox.html", messages=messages)
