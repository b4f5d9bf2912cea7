"""A company's staff users, managed by its admins: list, add, change roles, deactivate, reset passwords
and second factors."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Company, Role, User
from app.services import accounts, mfa
from app.services.audit import Action, record_audit
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

# No 0/o or 1/l/i: the admin reads it out or copies it from the screen without mistakes.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_GROUPS, _GROUP_LENGTH = 4, 5  # 20 characters of 31 symbols: about 99 bits


@dataclass(frozen=True)
class Member:
    """One staff user as the team pages show them."""

    id: str
    name: str
    email: str
    roles: list[str]
    is_active: bool
    second_factor: bool
    last_login_at: datetime | None
    must_change_password: bool  # still on a temporary password an admin handed out


@dataclass(frozen=True)
class SecondFactorReset:
    member: Member
    must_enrol: bool  # the sign-in policy makes them set up a new one at their next sign-in


@dataclass(frozen=True)
class IssuedPassword:
    member: Member
    password: str  # the temporary password, returned once and stored only as a hash


def temporary_password() -> str:
    """A strong random password in groups of five, e.g. `k7mwp-3rtxe-9qhna-vd2ys`."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS))


def list_team(actor: Principal) -> list[Member]:
    """Every staff user of the actor's company, by name (admins only)."""
    _require_admin(actor)
    users = db.session.scalars(select(User).where(User.company_id == actor.company_id)
                               .order_by(User.name, User.email))
    enrolled = mfa.enrolled_user_ids(actor.company_id)  # not a query per user
    return [_member(user, second_factor=user.id in enrolled) for user in users]


def get_member(actor: Principal, user_id: str) -> Member:
    return _member(_user(actor, user_id))


def invite_user(actor: Principal, *, name: str, email: str, roles: Collection[str]) -> IssuedPassword:
    """Add a staff user to the actor's company with a temporary password, returned once, which they
    must change at their first sign-in."""
    _require_admin(actor)
    if not name.strip():
        raise ValidationFailed("Invalid user.", [FieldError("name", "Enter the person's name.")])
    company = db.session.get(Company, actor.company_id)
    if company is None:
        raise NotFound("No such company.")
    password = temporary_password()
    try:
        user = accounts.create_user(company, email=email, name=name, password=password,
                                    roles=list(roles), actor=actor, temporary=True)
    except Conflict:
        # Emails are unique across companies: say it is taken, on the field the admin can fix.
        raise ValidationFailed("Invalid user.", [FieldError(
            "email", "A user with this email address already exists.")]) from None
    return IssuedPassword(_member(user), password)


def update_user_roles(actor: Principal, user_id: str, roles: Collection[str]) -> Member:
    """Replace a user's roles; an admin keeps their own admin role and the company keeps an admin."""
    user = _user(actor, user_id)
    wanted = sorted(set(roles))
    problem = accounts.roles_problem(wanted)
    if problem:
        raise ValidationFailed("Invalid roles.", [problem])
    before = sorted(user.roles)
    if wanted == before:
        return _member(user)
    if Role.ADMIN in before and Role.ADMIN not in wanted:
        if user.id == actor.id:
            raise Conflict("You cannot remove your own admin role; ask another admin to do it.")
        _keep_an_admin(user)
    user.roles = wanted
    record_audit(actor, Action.USER_ROLES_CHANGED, "user", user.id, {"before": before, "after": wanted})
    db.session.commit()
    return _member(user)


def deactivate_user(actor: Principal, user_id: str) -> Member:
    """Block a user's sign-in and end all their sessions (their data and audit trail stay)."""
    user = _user(actor, user_id)
    if not user.is_active:
        return _member(user)
    if user.id == actor.id:
        raise Conflict("You cannot deactivate yourself; ask another admin to do it.")
    if Role.ADMIN in user.roles:
        _keep_an_admin(user)
    user.is_active = False
    user.session_version += 1  # every cookie of theirs dies on its next request (app.auth.load_user)
    record_audit(actor, Action.USER_DEACTIVATED, "user", user.id)
    db.session.commit()
    return _member(user)


def reactivate_user(actor: Principal, user_id: str) -> Member:
    """Let a deactivated user sign in again with their current password."""
    user = _user(actor, user_id)
    if user.is_active:
        return _member(user)
    user.is_active = True
    record_audit(actor, Action.USER_REACTIVATED, "user", user.id)
    db.session.commit()
    return _member(user)


def reset_user_password(actor: Principal, user_id: str) -> IssuedPassword:
    """Give another user a new temporary password (returned once, to be changed at their next sign-in)
    and end all their sessions."""
    user = _user(actor, user_id)
    if user.id == actor.id:
        raise Conflict("Change your own password under Security.")
    password = temporary_password()
    accounts.replace_password(user, password)
    record_audit(actor, Action.USER_PASSWORD_RESET, "user", user.id)
    db.session.commit()
    return IssuedPassword(_member(user), password)


def reset_user_second_factor(actor: Principal, user_id: str) -> SecondFactorReset:
    """Remove another user's second factor (authenticator and recovery codes) and end all their sessions,
    for someone who lost both their phone and their recovery codes.

    Their password still signs them in; if the sign-in policy covers their role, they must set up a new
    second factor at that sign-in, otherwise they can under Security.
    """
    user = _user(actor, user_id)
    if user.id == actor.id:
        raise Conflict("Manage your own second factor under Security.")
    name = user.name
    if not mfa.remove_second_factor(user):
        db.session.rollback()
        raise Conflict(f"{name} has no second factor to reset.")
    user.session_version += 1  # a stolen session, or one half-way through sign-in, ends too
    record_audit(actor, Action.USER_SECOND_FACTOR_RESET, "user", user.id)
    db.session.commit()
    return SecondFactorReset(_member(user, second_factor=False), mfa.must_enrol(user))


def held_by_second_factor_policy(actor: Principal) -> list[Member]:
    """Active members the sign-in policy covers (by role) who have no second factor: whom it sends
    to the set-up page at their next page once it is on (admins only; the actor may be one)."""
    return [m for m in list_team(actor)
            if m.is_active and set(m.roles) & set(mfa.POLICY_ROLES) and not m.second_factor]


def _require_admin(actor: Principal) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins manage the team.")


def _user(actor: Principal, user_id: str) -> User:
    _require_admin(actor)
    user = db.session.scalar(select(User).where(User.id == user_id, User.company_id == actor.company_id))
    if user is None:
        raise NotFound("No such user.")
    return user


def _keep_an_admin(leaving: User) -> None:
    """Refuse when `leaving` is the company's last active admin.

    The company's user rows are locked (PostgreSQL) so two admins demoting each other at once cannot
    both pass; `populate_existing` re-reads rows another transaction just changed.
    """
    users = db.session.scalars(select(User).where(User.company_id == leaving.company_id)
                               .with_for_update(of=User).execution_options(populate_existing=True))
    if not any(u.is_active and Role.ADMIN in u.roles for u in users if u.id != leaving.id):
        raise Conflict(f"{leaving.name} is the last active admin of the company; "
                       "make someone else an admin first.")


def _member(user: User, *, second_factor: bool | None = None) -> Member:
    """`second_factor` when the caller already knows it (a list reads it for everyone at once)."""
    if second_factor is None:
        second_factor = mfa.is_enrolled(user)
    return Member(user.id, user.name, user.email, sorted(user.roles), user.is_active,
                  second_factor, user.last_login_at, user.must_change_password)
