"""What the customer sees of a runner: the step that waits for them, and the stages done and to come."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import DesignVersion, Runner
from app.services import runners, runtime

CUSTOMER_ROLE = "customer"
STEP_TYPES = ("form", "document")


@dataclass(frozen=True)
class Stage:
    name: str
    state: str  # done | current | remaining


def customer_actions(element: dict[str, Any]) -> list[str]:
    """Actions the `customer` role may take at this node and that move the runner on."""
    moving = [e.get("action") or "auto" for e in element.get("edges") or []
              if e.get("type", "goto") == "goto"]
    allowed: list[str] = []
    for entry in element.get("permissions") or []:
        roles = entry.get("roles") or []
        if CUSTOMER_ROLE not in roles and "*" not in roles:
            continue
        actions = entry.get("actions") or []
        for action in moving if "*" in actions else actions:
            if action in moving and action != "auto" and action not in allowed:
                allowed.append(action)
    return allowed


def leaves_without_data(runner: Runner, element: dict[str, Any], action: str) -> bool:
    """A Back-style action (the engine's rule, from the runner's compiled design, cached per
    version): the page sends nothing and checks nothing for it."""
    node = runtime.design_for(runner.design_id).nodes.get(element["name"])
    return node is not None and node.ignores_data(action)


def customer_step(runner: Runner) -> dict[str, Any] | None:
    """The first current node the customer can act on (a form or document step), if any."""
    if runner.status != "waiting":
        return None
    for element in runners.current_elements(runner):
        if element.get("type") in STEP_TYPES and customer_actions(element):
            return element
    return None


def newest_runner(company_id: str, flow_id: str, customer_id: str) -> Runner | None:
    """The customer's most recent runner of the flow, finished or not."""
    return db.session.scalar(
        select(Runner).where(Runner.company_id == company_id, Runner.flow_id == flow_id,
                             Runner.customer_id == customer_id)
        .order_by(Runner.created_at.desc(), Runner.id.desc()).limit(1))


def stages(runner: Runner) -> list[Stage]:
    """The design's stages in the order they first appear, marked against the runner's stage."""
    version = db.session.get(DesignVersion, runner.design_id)
    names: list[str] = []
    for node in (version.document.get("nodes") or []) if version else []:
        stage = node.get("stage")
        if stage and stage not in names:
            names.append(stage)
    if runner.status == "succeeded":
        return [Stage(name, "done") for name in names]
    current = names.index(runner.stage) if runner.stage in names else -1
    return [Stage(name, "done" if i < current else "current" if i == current else "remaining")
            for i, name in enumerate(names)]


def headline(runner: Runner) -> tuple[str, str]:
    """A short title and sentence for the customer about where the application stands."""
    if runner.status in ("queued", "running"):
        return "Working on it", "We are processing your details. This page updates by itself."
    if runner.status == "waiting":
        return "Under review", "Our team is reviewing your application. We will contact you soon."
    if runner.status == "succeeded":
        if outcome(runner):
            return "Complete", ("Your application has been processed. We will contact you about what "
                                "happens next.")
        return "Complete", "Your application has been processed. We will contact you with the outcome."
    if runner.status == "cancelled":
        return "Closed", "This application was closed. Contact us if you think this is a mistake."
    return "We hit a problem", "Something went wrong on our side. Our team has been told and will follow up."


def outcome(runner: Runner) -> str | None:
    """The decision a finished application reached: its end node's `message` ("Approved", "Not
    approved"), which the design gives as the outcome. A failure's or a cancel's reason is staff
    wording (an error, an officer's note), so the customer is shown only a succeeded end's."""
    if runner.status != "succeeded":
        return None
    return (runner.status_reason or "").strip() or None


def leaving_note(runner: Runner) -> str:
    """The line beside "Sign out": whether there is anything to come back for."""
    if runner.status == "succeeded":
        return "Your application is complete: nothing more is needed from you."
    if runner.status == "cancelled":
        return "This application is closed: nothing more is needed from you."
    if runner.status == "failed":
        return "Nothing more is needed from you for now: our team will follow up."
    return "You can leave and come back later: sign in again to continue."
