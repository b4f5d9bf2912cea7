"""Start a runner from the browser: pick a flow with a current version, give its start data."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.auth import current_principal, role_required
from app.services import flow_queries, runners
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.web.runners import bp
from app.web.runners.start_forms import StartForm, parsed
from app.web.runners.views import OPERATORS


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@role_required(*OPERATORS)
def new() -> Response | str | tuple[str, int]:
    actor = current_principal()
    form = StartForm(data={"flow": request.args.get("flow", "")})  # ?flow= pre-selects, e.g. from Designs
    flows = flow_queries.startable_flows(actor)
    form.flow.choices = [SelectChoice("", "Pick a flow"), *[SelectChoice(i, name) for i, name in flows]]
    if not form.is_submitted():
        return render_template("runners/new.html", form=form, flows=flows, error=None)
    if not form.validate():  # the app's CSRFProtect has already checked the token
        return render_template("runners/new.html", form=form, flows=flows, error=None), 422
    try:
        runner = runners.create_runner(actor, flow_id=form.flow.data, data=parsed(form.payload)).runner
    except (ValidationFailed, NotFound) as failure:  # the start node's schema, or a flow just deleted
        on_flow = isinstance(failure, NotFound) or any(e.path == "flow_id" for e in failure.errors)
        (form.flow if on_flow else form.payload).errors.extend(_lines(failure))
        return render_template("runners/new.html", form=form, flows=flows, error=None), 422
    except Conflict as failure:  # no current version any more, or it does not validate
        return render_template("runners/new.html", form=form, flows=flows, error=failure.message), 409
    flash(f"Runner {runner.ref_id} started.", "success")
    return redirect(url_for("runners.show", runner_id=runner.id), 303)


def _lines(failure: ValidationFailed | NotFound) -> list[str]:
    """A message per field problem, with its path, else the failure's message."""
    fields = [e for e in failure.errors if e.path not in ("flow_id", "action")]
    return [f"{e.path or '(the whole object)'}: {e.message}" for e in fields] or [failure.message]
