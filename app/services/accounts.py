"""Companies and staff users: create them, sign them in, change passwords."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Collection
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Company, Role, User
from app.models.base import utcnow
from app.services import mfa
from app.services.audit import Action, record_audit
from app.services.errors import AuthenticationFailed, Conflict, FieldError, ValidationFailed
from app.services.principal import Principal

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
INVALID_LOGIN = "Invalid email or password."  # one message for every failure, so it reveals nothing
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so both paths cost one hash (no user enumeration)."""
    return generate_password_hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_company(name: str, slug: str) -> Company:
    """Create a tenant. `slug` is its stable URL name."""
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise ValidationFailed("Invalid company slug.", [FieldError("slug", "Use 3-80 lowercase "
                               "letters, digits and dashes.")])
    if db.session.scalar(select(Company).where(Company.slug == slug)):
        raise Conflict(f"A company with slug {slug!r} already exists.")
    company = Company(name=name.strip(), slug=slug)
    db.session.add(company)
    db.session.commit()
    return company


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Password too short.",
            [FieldError("password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")],
        )


def roles_problem(roles: Collection[str]) -> FieldError | None:
    """What is wrong with a set of staff roles (none, or one we do not know), if anything."""
    if not roles or set(roles) - {r.value for r in Role}:
        return FieldError("roles", f"Choose one or more of {', '.join(r.value for r in Role)}.")
    return None


def create_user(company: Company, *, email: str, name: str, password: str,
                roles: list[str] | tuple[str, ...], actor: Principal | None = None,
                temporary: bool = False) -> User:
    """Create a staff user of `company` with the given roles; `actor` None is the system (CLI, demo).

    `temporary` marks a password someone else chose: the user must change it at their next sign-in.
    """
    email = normalise_email(email)
    errors = []
    if not _EMAIL.match(email):
        errors.append(FieldError("email", "Enter a valid email address."))
    problem = roles_problem(roles)
    if problem:
        errors.append(problem)
    if errors:
        raise ValidationFailed("Invalid user.", errors)
    validate_password(password)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict(f"A user with email {email} already exists.")
    user = User(company_id=company.id, email=email, name=name.strip(), roles=sorted(set(roles)))
    _set_password(user, password, temporary=temporary)
    db.session.add(user)
    db.session.flush()  # assigns the id the audit row names
    record_audit(actor, Action.USER_CREATED, "user", user.id, {"email": email, "roles": user.roles},
                 company_id=company.id)
    db.session.commit()
    return user


def authenticate_user(email: str, password: str, *, via: str = "web") -> User:
    """Return the active user with these credentials, or raise one uniform AuthenticationFailed.

    Failures for a known account are audited (`via` says which door: "web" or "api"); for an unknown
    one, logged without the address typed.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        # No company's audit log to put it in; the app log counts it for operators (guessing shows as
        # a run of these). Not the typed address: people type passwords into it by mistake.
        log.warning("login failed", extra={"reason": "unknown_account", "via": via})
        raise AuthenticationFailed(INVALID_LOGIN)
    if not user.check_password(password):
        _login_failed(user, "password", via)
    if not user.is_active or user.company.deactivated_at:
        _login_failed(user, "inactive", via)
    return user


def authenticate_basic(email: str, password: str) -> User:
    """HTTP Basic on the API: like `authenticate_user`, but refused to accounts that have (or must
    have) a second factor, since Basic cannot ask for it (those use API tokens), and to accounts still
    on a temporary password, which must first be changed in the browser."""
    user = authenticate_user(email, password, via="api")
    if mfa.is_enrolled(user) or mfa.must_enrol(user):
        _login_failed(user, "second_factor_required", "api")
    if user.must_change_password:
        # The password is right, so saying why does not help a guesser; it tells the owner what to do.
        _login_failed(user, "password_change_required", "api",
                      message="Your password is a temporary one: sign in to Flowdesk in a browser and "
                              "change it first.")
    return user


def record_failed_second_factor(user: User) -> None:
    """Audit a wrong second-factor code at sign-in."""
    record_audit(Principal.for_user(user), Action.LOGIN_FAILED, "user", user.id,
                 {"reason": "second_factor", "via": "web"})
    db.session.commit()


def _login_failed(user: User, reason: str, via: str, *, message: str = INVALID_LOGIN) -> None:
    record_audit(Principal.for_user(user), Action.LOGIN_FAILED, "user", user.id,
                 {"reason": reason, "via": via})
    db.session.commit()
    raise AuthenticationFailed(message)


def record_login(user: User, *, second_factor: str | None = None) -> None:
    """Stamp and audit a completed web sign-in; `second_factor` is "totp", "recovery" or None."""
    user.last_login_at = utcnow()
    record_audit(Principal.for_user(user), Action.LOGIN_SUCCEEDED, "user", user.id,
                 {"second_factor": second_factor or "none", "via": "web"})
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Change a password and end every other session of this user.

    The new one must differ from the current one: a temporary password (see `must_change_password`)
    cannot be kept, and typing the current one again changes nothing (it was answered "changed").
    """
    if not user.check_password(current):
        raise ValidationFailed("Current password is wrong.",
                               [FieldError("current_password", "This is not your current password.")])
    validate_password(new)
    if user.must_change_password and user.check_password(new):
        raise ValidationFailed("A temporary password cannot be kept.", [FieldError(
            "password", "Choose a new password of your own; the temporary one cannot be kept.")])
    if new == current:
        raise ValidationFailed("The new password is the current one.", [FieldError(
            "password", "That is your current password; choose a new one.")])
    _set_password(user, new, temporary=False)
    user.session_version += 1
    record_audit(Principal.for_user(user), Action.PASSWORD_CHANGED, "user", user.id)
    db.session.commit()


def replace_password(user: User, password: str) -> None:
    """Give `user` a new password set by someone else and end all their sessions.

    Someone else knows it, so it is temporary: the user must change it at their next sign-in.
    No audit and no commit: the calling use case audits who did it and commits.
    """
    validate_password(password)
    _set_password(user, password, temporary=True)
    user.session_version += 1


def _set_password(user: User, password: str, *, temporary: bool) -> None:
    # The one place the temporary flag is written: set with a password someone else chose, cleared
    # when the user chooses their own.
    user.set_password(password, _hash_method())
    user.must_change_password = temporary


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of this user, this one included."""
    user.session_version += 1
    record_audit(Principal.for_user(user), Action.SESSIONS_ENDED, "user", user.id)
    db.session.commit()
