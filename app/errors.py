"""Error handlers: problem JSON for the API, friendly pages for people; domain errors mapped once."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.config import describe_size
from app.problems import problem
from app.services import documents
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
PAGES = {403: "errors/403.html", 404: "errors/404.html", 413: "errors/413.html", 500: "errors/500.html"}
CUSTOMER_PREFIX = "/onboard/"


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


def back_link(status: int) -> dict[str, Any]:
    """Where an error page sends people back to. Customers (under /onboard/) go to their
    application's start, never to the staff sign-in; with no flow to go back to (an unknown
    address), there is no link. Staff go to the dashboard."""
    if not request.path.startswith(CUSTOMER_PREFIX):
        return {"back_url": url_for("home.index"), "back_label": "Back to the dashboard"}
    # A flow the onboarding pages found; for an error other than 404 the address named a flow too.
    named = None if status == 404 else (request.view_args or {}).get("flow_slug")
    slug = g.get("onboard_flow_slug") or named
    return {"back_url": url_for("onboarding.start", flow_slug=slug) if slug else None,
            "back_label": "Back to your application"}


def too_large_detail() -> str:
    """Why a request was refused unread, with the limits that apply to it."""
    limit = request.max_content_length
    whole = f"larger than the {describe_size(limit)} accepted in one request" if limit else "too large"
    if request.mimetype != "multipart/form-data":  # a JSON body or a plain form: no files to trim
        return f"The request is {whole}."
    per_file = describe_size(documents.max_bytes())
    return f"The request is {whole}. Each file can be up to {per_file}; send fewer or smaller files."


def error_page(error: HTTPException) -> tuple[str, int]:
    """The page for an HTTP error, for people (the API gets problem JSON instead)."""
    status = error.code or 500
    message = too_large_detail() if status == 413 else error.description
    return render_template(PAGES.get(status, "errors/error.html"), status=status, message=message,
                           **back_link(status)), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(domain.ServiceError)
    def handle_domain_error(error: domain.ServiceError) -> tuple[str, int] | Response:
        status = status_for(error)
        if wants_json():
            headers = {"WWW-Authenticate": 'Bearer realm="flowdesk"'} if status == 401 else None
            return problem(status, error.message, errors=error.errors, headers=headers)
        return render_template("errors/error.html", status=status, message=error.message,
                               **back_link(status)), status

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
        if wants_json():
            return problem(413, too_large_detail())
        return error_page(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        if wants_json():
            response = problem(status, error.description or "")
            for key in ("Allow", "Retry-After", "WWW-Authenticate"):
                if error.get_response().headers.get(key):
                    response.headers[key] = error.get_response().headers[key]
            return response
        return error_page(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
        # Log the type and traceback, never the request body: it may carry secrets or PII.
        log.exception("unhandled error", extra={"error_type": type(error).__name__})
        if wants_json():
            return problem(500, "An unexpected error occurred; it has been logged.")
        return render_template("errors/500.html", status=500, **back_link(500)), 500
