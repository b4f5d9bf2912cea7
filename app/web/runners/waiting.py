"""The runner page's "Waiting for" section: a form per waiting node, or a link to its inbox item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from app.models import Runner
from app.services import runner_queries
from app.services.principal import Principal
from app.services.runner_queries import WaitingNode
from app.web.runners.start_forms import ActForm, act_form


@dataclass(frozen=True)
class Waiting:
    node: WaitingNode
    form: ActForm | None  # None where nothing is submitted from this page
    inbox_url: str | None


@dataclass(frozen=True)
class Refusal:
    """What the last submit at a node came back with; its form keeps what was typed."""

    node: str
    form: ActForm
    message: str


def _inbox_url(node: WaitingNode) -> str:
    if node.inbox == "approval" and node.work_id:
        return url_for("inbox.approval", approval_id=node.work_id)
    anchor = f"checklist-{node.work_id}" if node.inbox == "checklist" and node.work_id else None
    return url_for("inbox.index", _anchor=anchor)


def waiting_part(actor: Principal, runner: Runner, refusal: Refusal | None = None) -> dict[str, Any]:
    """Context for templates/runners/_waiting.html. A refused form replaces its node's fresh one;
    when its node no longer waits (the runner moved on) it is shown apart, text kept."""
    items = []
    for node in runner_queries.waiting_nodes(actor, runner):
        form = None
        if node.takes_actions and not node.inbox and node.actions:  # only what the actor may submit
            form = (refusal.form if refusal and refusal.node == node.name
                    else act_form(node.name, formdata=None))
        items.append(Waiting(node, form, _inbox_url(node) if node.inbox else None))
    # Where a refused submit has no form to go back to (the runner moved on, or nothing there is the
    # actor's to submit), its text is shown apart; an inbox node refused here keeps its link only.
    kept = {item.node.name for item in items if item.form is not None or item.node.inbox}
    waiting_names = {item.node.name for item in items}
    apart = refusal if refusal and refusal.node not in kept else None
    return {"waiting": items, "refusal": refusal, "stale_refusal": apart,
            "stale_still_waiting": bool(apart) and apart.node in waiting_names}
