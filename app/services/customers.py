"""Customers named by mobile or email: normalised (E.164, lower-cased), found or created per company."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Customer
from app.services import errors
from app.services.principal import Principal

DEFAULT_REGION = "IN"  # numbers written without a country code are Indian, as in seed 001
WRITER_ROLES = ("admin", "credit_officer")


def normalise_mobile(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """`raw` as E.164; numbers without `+` are read in `region`. Invalid numbers are a ValidationFailed."""
    invalid = errors.ValidationFailed("Invalid mobile number.", [errors.FieldError(
        "mobile", "Enter a valid mobile number, e.g. +919876543210.")])
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise invalid
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """`raw` checked for shape (never for deliverability) and lower-cased."""
    try:
        checked = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise errors.ValidationFailed("Invalid email address.", [errors.FieldError(
            "email", "Enter a valid email address.")]) from None
    return checked.normalized.lower()


def _find(company_id: str, mobile: str | None, email: str | None) -> Customer | None:
    column, value = (Customer.mobile, mobile) if mobile else (Customer.email, email)
    return db.session.scalar(select(Customer).where(Customer.company_id == company_id, column == value))


def find_or_create_customer(actor: Principal, *, mobile: str | None = None, email: str | None = None,
                            create: bool = True) -> Customer:
    """The company's customer with this mobile (preferred when both are given) or email.

    Missing and `create` false: NotFound. A new customer is flushed, not committed, so it lands
    with the caller's transaction (a runner that fails to start leaves no customer behind).
    """
    if actor.kind != "system" and not actor.has_role(*WRITER_ROLES):
        raise errors.PermissionDenied("Only admins and credit officers create customers' runners.")
    if not mobile and not email:
        raise errors.ValidationFailed("Name the customer.", [errors.FieldError(
            "email", "Give the customer's email or mobile.")])
    mobile = normalise_mobile(mobile) if mobile else None
    email = None if mobile else normalise_email(email or "")
    found = _find(actor.company_id, mobile, email)
    if found is not None:
        return found
    if not create:
        raise errors.NotFound("No such customer; send create_if_not_exists: true to create one.")
    customer = Customer(company_id=actor.company_id, mobile=mobile, email=email)
    try:
        with db.session.begin_nested():
            db.session.add(customer)
    except IntegrityError:  # a concurrent request created the same customer first
        found = _find(actor.company_id, mobile, email)
        if found is None:
            raise
        return found
    return customer
