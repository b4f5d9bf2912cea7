"""Customer onboarding pages (public) and the demo's admin-only outbox of sent codes."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("onboarding", __name__, url_prefix="/onboard")
outbox_bp = Blueprint("onboarding_outbox", __name__, url_prefix="/onboard-outbox")


@bp.record_once
def _check_deployment(state: object) -> None:
    # Start-up, not first request: a deployment whose OTP limits cannot hold must not come up.
    from app.services.otp import check_deployment
    from app.services.storage import init_storage

    check_deployment(state.app)  # type: ignore[attr-defined]
    init_storage(state.app)  # type: ignore[attr-defined]  customers upload here: storage must work


def register_onboarding(app: Flask) -> None:
    """Register the onboarding pages; the outbox only in demo mode (FLOWDESK_DEMO)."""
    app.register_blueprint(bp)
    if app.config.get("FLOWDESK_DEMO"):
        app.register_blueprint(outbox_bp)


from app.web.onboarding import context, outbox, sign_in, views  # noqa: E402, F401  routes attach to the blueprints
