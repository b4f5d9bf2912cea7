"""Staff sessions (Flask-Login) and the role guard for pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from app.extensions import db, login_manager
from app.models import User
from app.services.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # The session id embeds session_version, so bumping it (logout everywhere, password change)
    # invalidates every cookie issued before.
    user_id, _, version = session_id.partition(":")
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def current_principal() -> Principal:
    return Principal.for_user(current_user)  # type: ignore[arg-type]


def role_required(*roles: str) -> Callable[[F], F]:
    """Require a signed-in user holding at least one of `roles` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def init_login(login_view: str = "auth.login") -> None:
    login_manager.login_view = login_view
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
