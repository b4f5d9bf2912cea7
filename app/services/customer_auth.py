"""Customer sessions for the API: access JWTs (15 minutes) and rotating refresh tokens with reuse detection.

Both tokens are HS256 JWTs signed with a key derived from SECRET_KEY, carrying the customer (`sub`)
and company (`cid`). A refresh token is good for one refresh: the server records its `jti`, and a
second presentation revokes every token of that sign-in (its family), since one of the two holders
must be a thief. A customer token only ever becomes a `customer` Principal, which the runner
services confine to the customer's own runners and to node actions granted to the `customer` role.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Company, Customer, CustomerRefreshToken, Role
from app.models.base import new_id
from app.services.clock import now as utcnow
from app.services.errors import AuthenticationFailed, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.otp import Destination, normalise_destination
from app.services.principal import Principal

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
ISSUER = "flowdesk"
AUDIENCE = "flowdesk:customer"
CUSTOMER_ROLE = "customer"
INVALID = "Invalid or expired customer token."
EXCHANGE_ROLES = (Role.ADMIN.value, Role.CREDIT_OFFICER.value)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    customer_id: str
    company_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": self.expires_in,
                "customer_id": self.customer_id, "company_id": self.company_id}


def _signing_key() -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"flowdesk-customer-jwt-v1",
                    hashlib.sha256).digest()


def _encode(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _signing_key(), algorithm="HS256")


def _decode(raw: str, typ: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(raw, _signing_key(), algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]})
    except jwt.PyJWTError:
        raise AuthenticationFailed(INVALID) from None
    if claims.get("typ") != typ or not isinstance(claims.get("cid"), str):
        raise AuthenticationFailed(INVALID)
    return claims


def customer_principal(customer: Customer) -> Principal:
    return Principal("customer", customer.id, customer.company_id, frozenset({CUSTOMER_ROLE}),
                     customer.name or customer.mobile or customer.email or "customer")


def _live_customer(company_id: str, customer_id: str) -> Customer:
    customer = db.session.get(Customer, customer_id)
    company = db.session.get(Company, company_id)
    if (customer is None or customer.company_id != company_id or company is None
            or company.deactivated_at is not None):
        raise AuthenticationFailed(INVALID)
    return customer


def customer_for_destination(company: Company, destination: Destination) -> Customer:
    """The company's customer with this mobile/email, created on first sign-in."""
    column = Customer.email if destination.channel == "email" else Customer.mobile
    found = db.session.scalar(select(Customer).where(Customer.company_id == company.id,
                                                     column == destination.value))
    if found is not None:
        return found
    customer = Customer(company_id=company.id, **{
        "email" if destination.channel == "email" else "mobile": destination.value})
    db.session.add(customer)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent sign-in created it first
        db.session.rollback()
        found = db.session.scalar(select(Customer).where(Customer.company_id == company.id,
                                                         column == destination.value))
        if found is None:
            raise
        return found
    return customer


def issue_tokens(customer: Customer, *, family_id: str | None = None) -> TokenPair:
    """A fresh access token and a refresh token (a new family unless rotating one)."""
    now = utcnow()
    row = CustomerRefreshToken(id=new_id(), company_id=customer.company_id, customer_id=customer.id,
                               family_id=family_id or new_id(), created_at=now,
                               expires_at=now + REFRESH_TTL)
    db.session.add(row)
    db.session.commit()
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": customer.id, "cid": customer.company_id,
            "iat": int(now.timestamp())}
    access = _encode({**base, "typ": "access", "jti": new_id(),
                      "exp": int((now + ACCESS_TTL).timestamp())})
    refresh = _encode({**base, "typ": "refresh", "jti": row.id, "exp": int(row.expires_at.timestamp())})
    return TokenPair(access, refresh, int(ACCESS_TTL.total_seconds()), customer.id, customer.company_id)


@dataclass(frozen=True)
class AccessInfo:
    principal: Principal
    expires_at: datetime


def authenticate_access_token(raw: str) -> AccessInfo:
    """The customer Principal an access token stands for, or AuthenticationFailed (one message)."""
    claims = _decode(raw, "access")
    customer = _live_customer(claims["cid"], claims["sub"])
    return AccessInfo(customer_principal(customer), datetime.fromtimestamp(claims["exp"], UTC))


def looks_like_customer_token(raw: str) -> bool:
    """Cheap shape test for API auth: a JWT (three dot-separated parts), unlike `fd_` API tokens."""
    return raw.count(".") == 2 and not raw.startswith("fd_")


def refresh(raw: str) -> TokenPair:
    """Rotate: the presented refresh token is used up and a new pair returned.

    A token presented twice revokes its whole family and fails, so a stolen token is good for at
    most one use and then locks out the thief and the owner alike (the owner signs in again).
    """
    claims = _decode(raw, "refresh")
    now = utcnow()
    row = db.session.get(CustomerRefreshToken, claims["jti"])
    if row is None or row.customer_id != claims["sub"] or row.company_id != claims["cid"]:
        raise AuthenticationFailed(INVALID)
    if row.revoked_at is not None or row.expires_at <= now:
        raise AuthenticationFailed(INVALID)
    used = db.session.execute(update(CustomerRefreshToken).where(
        CustomerRefreshToken.id == row.id, CustomerRefreshToken.used_at.is_(None),
    ).values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        revoke_family(row.family_id)
        raise AuthenticationFailed(INVALID)
    db.session.commit()
    return issue_tokens(_live_customer(row.company_id, row.customer_id), family_id=row.family_id)


def revoke_family(family_id: str) -> None:
    db.session.execute(update(CustomerRefreshToken).where(
        CustomerRefreshToken.family_id == family_id, CustomerRefreshToken.revoked_at.is_(None),
    ).values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def exchange(actor: Principal, *, customer_id: str | None = None, mobile: str | None = None,
             email: str | None = None, create: bool = True) -> TokenPair:
    """Staff/API credentials obtain a customer's tokens, e.g. to embed onboarding in another app.

    Only admins and credit officers may; the customer must be of the actor's company (else not
    found). With `mobile`/`email` the customer is created when missing unless `create` is false.
    """
    if actor.kind not in ("staff", "api") or not actor.has_role(*EXCHANGE_ROLES):
        raise PermissionDenied("Only admins and credit officers may exchange tokens for customers.")
    company = db.session.get(Company, actor.company_id)
    assert company is not None  # noqa: S101  the actor's own company
    if customer_id:
        customer = db.session.get(Customer, customer_id)
        if customer is None or customer.company_id != actor.company_id:
            raise NotFound("No such customer.")
        return issue_tokens(customer)
    raw = mobile or email
    if not raw:
        raise ValidationFailed("Name the customer.", [FieldError(
            "customer_id", "Give customer_id, mobile or email.")])
    try:
        destination = normalise_destination(raw)
    except ValidationFailed:
        field = "mobile" if mobile else "email"
        raise ValidationFailed("Invalid customer contact.", [FieldError(
            field, "Enter a valid mobile number or email address.")]) from None
    if not create:
        column = Customer.email if destination.channel == "email" else Customer.mobile
        existing = db.session.scalar(select(Customer).where(Customer.company_id == company.id,
                                                            column == destination.value))
        if existing is None:
            raise NotFound("No such customer.")
        return issue_tokens(existing)
    return issue_tokens(customer_for_destination(company, destination))
