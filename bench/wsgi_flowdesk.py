"""Flowdesk's app for gunicorn in the API benchmark, plus stand-in runner routes while the real ones
are missing (they call the same services behind the same token authentication)."""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Blueprint, Flask, request

from app.api.auth import authenticate_request, principal
from app.services import errors
from app.services.runners import execute_runner, get_runner
from bench import env

REAL_GET = "/v1/rego/runners/<uuid:runner_id>/"
REAL_EXECUTE = "/v1/rego/runners/<uuid:runner_id>/execute/"


def real_routes(app: Flask) -> dict[str, bool]:
    """Which of the real Get Runner / Execute Runner routes the app has."""
    rules = {(re.sub(r"<[^>]+>", "<>", rule.rule), method)
             for rule in app.url_map.iter_rules() for method in rule.methods or ()}

    def has(path: str, method: str) -> bool:
        return (re.sub(r"<[^>]+>", "<>", path), method) in rules

    return {"get": has(REAL_GET, "GET"), "execute": has(REAL_EXECUTE, "POST")}


stand_in = Blueprint("bench_stand_in", __name__, url_prefix="/bench")
stand_in.before_request(authenticate_request)


def _runner_json(runner: Any) -> dict[str, Any]:
    return {"id": runner.id, "ref_id": runner.ref_id, "status": runner.status, "stage": runner.stage,
            "current_nodes": runner.current_nodes, "version": runner.version}


@stand_in.get("/runners/<runner_id>/")
def get(runner_id: str) -> Any:
    return _runner_json(get_runner(principal(), runner_id))


@stand_in.post("/runners/<runner_id>/execute/")
def execute(runner_id: str) -> Any:
    body = request.get_json(silent=True) or {}
    try:
        outcome = execute_runner(principal(), runner_id, action=body.get("action", ""),
                                 data=body.get("data"))
    except errors.ServiceError as error:  # the real API answers a problem body; enough for a bench
        return {"error": error.message}, 409
    return _runner_json(outcome.runner)


def build() -> Flask:
    app = env.make_app(os.environ["BENCH_DATABASE_URL"])
    from app.extensions import csrf

    csrf.exempt(stand_in)
    app.register_blueprint(stand_in)
    return app


app = build() if "BENCH_DATABASE_URL" in os.environ else None
