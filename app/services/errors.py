"""Domain errors raised by services; the web and API layers translate them, services never speak HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    """One problem with one input field; `path` is a dotted/indexed path such as `data.items.0.amount`."""

    path: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


@dataclass
class ServiceError(Exception):
    """Base of every domain error. `message` is safe to show to the caller."""

    message: str
    errors: list[FieldError] = field(default_factory=list)
    code: str = "error"

    def __str__(self) -> str:
        return self.message


class NotFound(ServiceError):
    """The object does not exist for this caller (another tenant's objects are 'not found' too)."""


class PermissionDenied(ServiceError):
    """The caller is known but may not do this."""


class AuthenticationFailed(ServiceError):
    """Credentials are missing, wrong, expired or revoked: one message whatever the cause. The one
    exception is a right but temporary password on the API, told to change it in a browser first."""


class ValidationFailed(ServiceError):
    """Input is malformed or breaks a rule; `errors` names the fields."""


class Conflict(ServiceError):
    """The request clashes with the current state (already decided, concurrently changed...)."""


class RateLimited(ServiceError):
    """Too many attempts; try again later."""
