"""The runner page's "Waiting for" section: a form per waiting node, or a link to its inbox item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for

from app.models import Runner
from app.services import clock, runner_queries
from app.services.principal import Principal
from app.services.runner_queries import WaitingNode
from app.web.runners.start_forms import ActForm, act_form


@dataclass(frozen=True)
class Waiting:
    node: WaitingNode
    form: ActForm | None  # None where nothing is submitted from this page
    inbox_url: str | None
    due_in: str | None = None  # a timer's due time from now, in words ("in 3 hours")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def from_now(due: datetime, now: datetime) -> str:
    """How far `due` is from `now`, roughly, in words: "in 3 hours", "2 minutes ago". A timer past
    due has not fired yet (the worker fires due timers on its next tick), so that is said too."""
    seconds = (due - now).total_seconds()
    span = abs(seconds)
    if span < 60:
        return "within a minute" if seconds >= 0 else "under a minute ago"
    size, unit = next((size, unit) for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute"))
                      if span >= size)
    words = _count(round(span / size), unit)
    return f"in {words}" if seconds >= 0 else f"{words} ago"


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
        if node.takes_actions and not node.service and node.actions:  # only what the actor may submit
            form = (refusal.form if refusal and refusal.node == node.name
                    else act_form(node.name, formdata=None))
        due_in = from_now(node.due_at, clock.now()) if node.due_at is not None else None
        items.append(Waiting(node, form, _inbox_url(node) if node.inbox else None, due_in))
    # Where a refused submit has no form to go back to (the runner moved on, or nothing there is the
    # actor's to submit), its text is shown apart; a node its service decides keeps its note only.
    kept = {item.node.name for item in items if item.form is not None or item.node.service}
    waiting_names = {item.node.name for item in items}
    apart = refusal if refusal and refusal.node not in kept else None
    return {"waiting": items, "refusal": refusal, "stale_refusal": apart,
            "stale_still_waiting": bool(apart) and apart.node in waiting_names}
