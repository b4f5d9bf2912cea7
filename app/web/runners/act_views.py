"""Move a waiting runner on from its page: submit an action with data at one of its waiting nodes."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import current_principal, role_required
from app.models import Runner
from app.services import runners
from app.services.errors import Conflict, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.web.runners import bp
from app.web.runners.start_forms import ActForm, act_form, parsed
from app.web.runners.views import OPERATORS, page_context
from app.web.runners.waiting import Refusal

ANSWER_CHARS = 300  # a quote or a lookup fits; the store below has the whole of it


@bp.post("/<uuid:runner_id>/act", endpoint="act")
@role_required(*OPERATORS)
def act(runner_id: Any) -> Response | tuple[str, int]:
    actor = current_principal()
    runner = runners.get_runner(actor, str(runner_id))  # another company's runner: 404 first
    node = (request.form.get("node") or "").strip()[:120]
    form = act_form(node)
    if not node or not form.validate_on_submit():  # the app's CSRFProtect has already checked the token
        return _refused(actor, runner, node, form, "Check the action and its data." if node
                        else "Say which waiting node to act on.", 422)
    action = form.action.data.strip()
    try:
        moved = runners.execute_runner(actor, runner.id, action=action, data=parsed(form.payload), node=node)
    except ValidationFailed as failure:  # the node's schema, or an action it does not take
        details = [f"{e.path or '(the whole object)'}: {e.message}"
                   for e in failure.errors if e.path != "action"]
        form.payload.errors = [*form.payload.errors, *details]
        # The details show under the data; the alert above says only where to look (not them again).
        message = f"{node} did not take this data: see below it." if details else failure.message
        return _refused(actor, runner, node, form, message, 422)
    except PermissionDenied as failure:
        return _refused(actor, runner, node, form, f"You may not do that here: {failure.message}.", 403)
    except Conflict as failure:  # the runner moved on since the page was loaded
        return _refused(actor, runner, node, form, f"The runner has moved on: {failure.message}. "
                        "Nothing was submitted; check where it stands now.", 409)
    if moved.replies:  # a return edge: the node answered and the runner stays where it was
        answer = "; ".join(_shown(reply.data) for reply in moved.replies)
        merged = "" if answer == "nothing" else "; the answer is merged into its store"
        flash(f"Submitted '{action}' at {node}. It answered: {answer}. {runner.ref_id} stays "
              f"{moved.runner.status} there{merged}.", "success")
    else:
        flash(f"Submitted '{action}' at {node}: {runner.ref_id} is now {moved.runner.status}.", "success")
    return redirect(url_for("runners.show", runner_id=runner.id), 303)


def _shown(data: Any) -> str:
    """A return edge's answer on one line, as the API would give it, cut to fit a message."""
    if data is None or data == {}:  # a return edge without return data
        return "nothing"
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS - 1] + "…"


def _refused(actor: Principal, runner: Runner, node: str, form: ActForm, message: str,  # noqa: PLR0917  one refusal, said once
             status: int) -> tuple[str, int]:
    """The runner page as it is now, with the message and the typed data at the node's form."""
    fresh = runners.get_runner(actor, runner.id)  # a refused submit rolled back; read it again
    refusal = Refusal(node, form, message)
    return render_template("runners/show.html", **page_context(actor, fresh, refusal=refusal)), status
