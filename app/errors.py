"""Error handlers: problem JSON for the API, friendly pages for people; domain errors mapped once."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from app.problems import problem
from app.services import errors as domain

log = logging.getLogger(__name__)

# Domain error -> HTTP status. The only place this mapping lives.
STATUS_FOR = {
    domain.NotFound: 404,
    domain.PermissionDenied: 403,
    domain.AuthenticationFailed: 401,
    domain.ValidationFailed: 422,
    domain.Conflict: 409,
    domain.RateLimited: 429,
}
API_PREFIXES = ("/v1/", "/flow/api/")


def wants_json() -> bool:
    if request.path.startswith(API_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and "text/html" not in request.accept_mimetypes


def status_for(error: domain.ServiceError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return 400


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(domain.ServiceError)
    def handle_domain_error(error: domain.ServiceError) -> tuple[str, int] | Response:
        status = status_for(error)
        if wants_json():
            headers = {"WWW-Authenticate": 'Bearer realm="flowdesk"'} if status == 401 else None
            return problem(status, error.message, errors=error.errors, headers=headers)
        return render_template("errors/error.html", status=status, message=error.message), status

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        if wants_json():
            response = problem(status, error.description or "")
            for key in ("Allow", "Retry-After", "WWW-Authenticate"):
                if error.get_response().headers.get(key):
                    response.headers[key] = error.get_response().headers[key]
            return response
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        return render_template(template, status=status, message=error.description), status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
        # Log the type and traceback, never the request body: it may carry secrets or PII.
        log.exception("unhandled error", extra={"error_type": type(error).__name__})
        if wants_json():
            return problem(500, "An unexpected error occurred; it has been logged.")
        return render_template("errors/500.html", status=500), 500
