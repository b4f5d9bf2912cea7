"""API tokens: issue (the raw value is returned once), authenticate, list and revoke."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import ApiToken, Company, Role
from app.models.api_token import hash_token
from app.models.base import utcnow
from app.services.audit import Action, record_audit
from app.services.errors import AuthenticationFailed, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

TOKEN_PREFIX = "fd_"  # noqa: S105  a public marker that makes leaked tokens greppable
# Writing last_used_at on every request would turn each API read into a write; once a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown to the user exactly once


def issue_api_token(actor: Principal, company: Company, *, name: str,
                    roles: list[str] | tuple[str, ...] = (Role.ADMIN,)) -> IssuedToken:
    """Create a token for `company`; only its admins (or the system) may."""
    _require_admin_of(actor, company.id)
    name = name.strip()
    if not name:
        raise ValidationFailed("Invalid token.", [FieldError("name", "Give the token a name.")])
    unknown = set(roles) - {r.value for r in Role}
    if unknown or not roles:
        raise ValidationFailed("Invalid token.", [FieldError("roles", "Unknown role.")])
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(company_id=company.id, name=name, prefix=raw[:10], token_hash=hash_token(raw),
                     roles=sorted(set(roles)),
                     created_by_id=actor.id if actor.kind == "staff" else None)
    db.session.add(token)
    db.session.flush()  # assigns the id the audit row names
    record_audit(actor, Action.TOKEN_CREATED, "api_token", token.id,
                 {"name": name, "prefix": token.prefix, "roles": token.roles}, company_id=company.id)
    db.session.commit()
    return IssuedToken(token, raw)


def authenticate_api_token(raw: str) -> ApiToken:
    """Return the live token for this raw value, or raise AuthenticationFailed."""
    digest = hash_token(raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    now = utcnow()
    if token is None or not _live(token, digest, now):
        raise AuthenticationFailed("Invalid or expired API token.")
    if _stale_use(token.last_used_at, now):
        token.last_used_at = now
        db.session.commit()
    return token


# Every API request runs these: built once, as a statement object memoises its cache key, and
# reading a few columns skips building an ORM object (bench/README.md).
_TOKENS = ApiToken.__table__
_BY_HASH = select(*(_TOKENS.c[name] for name in (
    "id", "company_id", "name", "roles", "token_hash", "revoked_at", "expires_at", "last_used_at",
))).where(_TOKENS.c.token_hash == bindparam("token_hash"))
_TOUCH = update(_TOKENS).where(_TOKENS.c.id == bindparam("b_id"))  # SET last_used_at from the params


def authenticate_api_principal(raw: str) -> Principal:
    """`Principal.for_token(authenticate_api_token(raw))` for a request, without an ORM object."""
    digest = hash_token(raw)
    found = db.session.execute(_BY_HASH, {"token_hash": digest}).first()
    now = utcnow()
    if found is None or not _live(found, digest, now):
        raise AuthenticationFailed("Invalid or expired API token.")
    if _stale_use(found.last_used_at, now):
        db.session.execute(_TOUCH, {"b_id": found.id, "last_used_at": now})
        db.session.commit()
    return Principal("api", found.id, found.company_id, frozenset(found.roles), f"token {found.name}")


def _live(token: Any, digest: str, now: datetime) -> bool:
    """Matching, not revoked, not expired: `token` is an ApiToken or a row of its columns."""
    return (hmac.compare_digest(token.token_hash, digest) and token.revoked_at is None
            and (token.expires_at is None or token.expires_at > now))


def _stale_use(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at > _LAST_USED_RESOLUTION


def list_api_tokens(actor: Principal) -> list[ApiToken]:
    _require_admin_of(actor, actor.company_id)
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.company_id == actor.company_id)
        .order_by(ApiToken.created_at.desc())
    ))


def revoke_api_token(actor: Principal, token_id: str) -> ApiToken:
    """Revoke one of the actor's company's tokens; another company's token is 'not found'."""
    _require_admin_of(actor, actor.company_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.company_id != actor.company_id:
        raise NotFound("No such API token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(actor, Action.TOKEN_REVOKED, "api_token", token.id,
                     {"name": token.name, "prefix": token.prefix})
        db.session.commit()
    return token


def _require_admin_of(actor: Principal, company_id: str) -> None:
    if actor.kind == "system" and actor.company_id == company_id:
        return
    if actor.company_id != company_id or not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only the company's admins manage API tokens.")
