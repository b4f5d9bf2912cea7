"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.services import health

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is up and answering; checks nothing else."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Ready to serve: the database answers and its schema is at the migrations' head."""
    report = health.readiness()
    return report.as_dict(), 200 if report.ready else 503
