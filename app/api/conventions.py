"""flask-smorest wired to our conventions: problem bodies for every error, and one `operation` decorator."""

from __future__ import annotations

import http
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import flask_smorest
from flask_smorest.utils import prepare_response
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from app.api.schemas import ProblemSchema
from app.services.errors import FieldError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
PROBLEM_JSON = "application/problem+json"
# Answers any authenticated operation may give; 404 also covers another company's objects.
COMMON_ERRORS = (400, 401, 403, 422)


def field_errors(messages: Any, prefix: str = "") -> list[FieldError]:
    """Flatten marshmallow's nested `{field: [messages] | {...}}` into FieldErrors with dotted paths."""
    if isinstance(messages, str):
        return [FieldError(prefix or "body", messages)]
    if isinstance(messages, list):
        return [e for m in messages for e in field_errors(m, prefix)]
    found: list[FieldError] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            part = "" if key == "_schema" else str(key)
            found += field_errors(value, f"{prefix}.{part}" if prefix and part else prefix or part)
    return found


class ProblemParser(FlaskParser):
    """webargs parser that raises our domain errors instead of aborting with its own JSON shape."""

    def handle_error(self, error: ValidationError, req: Any, schema: Any, *,
                     error_status_code: int | None, error_headers: Any) -> NoReturn:
        messages = error.normalized_messages()
        # webargs nests by location ({"json": {...}}); the path a client knows starts at the field.
        if isinstance(messages, dict) and len(messages) == 1:
            (location, inner), = messages.items()
            if location in self.__location_map__:
                messages = inner
        raise ValidationFailed("The request is not valid.", field_errors(messages))

    def _raw_load_json(self, req: Any) -> Any:
        # webargs reads a body of another type as no body at all: a form-encoded `curl -d` then
        # answered "name: missing", and a decision with a text/plain body was taken as one without
        # a comment. A body is JSON or it is refused, naming the header to fix.
        if not is_json_request(req) and req.get_data(cache=True):
            sent = f"it was sent as {req.mimetype}" if req.mimetype else "it had no Content-Type"
            raise UnsupportedMediaType(
                f"The request body must be JSON, sent with Content-Type: application/json ({sent}).")
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # webargs parses with the json module itself
            raise BadRequest("The request body is not valid JSON: it is nested too deeply.") from None

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise BadRequest("The request body is not valid JSON.")


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ProblemParser()

    def operation(self, summary: str, *, errors: tuple[int, ...] = COMMON_ERRORS,
                  public: bool = False, description: str | None = None) -> Callable[[F], F]:
        """Document an operation: its seed-000 name as `summary` and the problems it may answer."""

        def decorator(func: F) -> F:
            statuses = set(errors) - ({401, 403} if public else set())
            parameters = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
            if any(p.get("in") == "json" for p in parameters):
                statuses.add(415)  # a body that is not sent as JSON (ProblemParser)
            for status in sorted(statuses, reverse=True):
                func = self.alt_response(status, response=http.HTTPStatus(status).name)(func)
            extra: dict[str, Any] = {"summary": summary}
            if description:
                extra["description"] = description
            if public:
                extra["security"] = []
            return self.doc(**extra)(func)

        return decorator


class FlowdeskApi(flask_smorest.Api):
    """The spec generator. Error rendering stays in app/errors.py; here errors are only described."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """app/errors.py renders every error (HTTP or domain) as a problem; smorest's shape would differ."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


@contextmanager
def errors_on(service_path: str, request_path: str) -> Iterator[None]:
    """Name a service's field error after the request field the client sent.

    Services check a value under their own name (`destination` for a mobile or email), and a node
    checks submitted data from its root (path `""`, which is the request's `data`); the problem must
    name what the client sent (`mobile`, `data`), or the client cannot tell which field to fix.
    """
    try:
        yield
    except ValidationFailed as error:
        error.errors = [FieldError(request_path, e.message) if e.path == service_path else e
                        for e in error.errors]
        raise
