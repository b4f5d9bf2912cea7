"""Customer Auth endpoints (seed 000) under /v1/rego/customer-auth/: OTP sign-in and customer tokens.

Send OTP, Verify OTP and Refresh Token are public (the customer has no credentials yet); Auth Ping
takes a customer access token; Exchange Token takes staff/API credentials. None is idempotent by
key: their answers carry credentials, which must not be saved for replay.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from app.api import v1
from app.api.auth import principal, public
from app.api.conventions import errors_on
from app.api.schemas import BaseSchema, StrictBoolean
from app.extensions import db
from app.models import Company, OtpChallenge
from app.problems import problem
from app.services import customer_auth, otp
from app.services.errors import AuthenticationFailed, NotFound

TAG = ["Customer Auth"]
PREFIX = "/rego/customer-auth"
PUBLIC_ERRORS = (400, 401, 422, 429, 503)


class SendOtpSchema(BaseSchema):
    company = fields.String(required=True, validate=validate.Length(1, 80),
                            metadata={"description": "The lender's company slug"})
    mobile = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "Mobile number; without a country code it is read in the default region (IN)"})
    email = fields.String(validate=validate.Length(1, 254))

    @validates_schema
    def _one_destination(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("mobile")) == bool(data.get("email")):
            raise ValidationError("Give either mobile or email.", "mobile")


class OtpSentSchema(BaseSchema):
    challenge_id = fields.String(required=True, metadata={"description": "Pass it to Verify OTP"})
    channel = fields.String(required=True, metadata={"description": "sms or email"})
    destination = fields.String(required=True, metadata={"description": "Masked destination"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the code is valid"})
    resend_in = fields.Integer(required=True, metadata={"description": "Seconds before a new code"})


class VerifyOtpSchema(BaseSchema):
    challenge_id = fields.String(required=True, validate=validate.Length(1, 64))
    code = fields.String(required=True, validate=validate.Length(1, 16))


class TokenPairSchema(BaseSchema):
    access_token = fields.String(required=True, metadata={"description": "JWT, about 15 minutes"})
    refresh_token = fields.String(required=True, metadata={"description": "JWT, single use"})
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Access token lifetime, seconds"})
    customer_id = fields.String(required=True)
    company_id = fields.String(required=True)


class RefreshSchema(BaseSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(1, 4000))


class PingSchema(BaseSchema):
    kind = fields.String(required=True)
    customer_id = fields.String(required=True)
    company_id = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class ExchangeSchema(BaseSchema):
    customer_id = fields.String(validate=validate.Length(1, 64))
    mobile = fields.String(validate=validate.Length(1, 32))
    email = fields.String(validate=validate.Length(1, 254))
    create_if_not_exists = StrictBoolean(load_default=True, metadata={
        "description": "With mobile/email: create the customer when missing"})

    @validates_schema
    def _one_customer(self, data: dict[str, Any], **_: Any) -> None:
        # Two identifiers may name two customers: the service used the first it found and
        # dropped the other, so a mistyped mobile with a right email got another person's tokens.
        given = [name for name in ("customer_id", "mobile", "email") if data.get(name)]
        if len(given) > 1:
            raise ValidationError(f"Give one of customer_id, mobile or email, not {' and '.join(given)}.",
                                  given[1])


def _company(slug: str) -> Company:
    company = db.session.scalar(select(Company).where(Company.slug == slug.strip().lower()))
    if company is None or company.deactivated_at is not None:
        raise NotFound("No such company.")
    return company


def _otp_failure(error: otp.OtpRateLimited | otp.OtpUnavailable) -> Response:
    if isinstance(error, otp.OtpRateLimited):
        return problem(429, error.message, headers={"Retry-After": str(error.retry_after)})
    return problem(503, error.message, headers={"Retry-After": "60"})


@v1.route(f"{PREFIX}/send-otp/", methods=["POST"], tags=TAG)
@public
@v1.operation("Send OTP", errors=(*PUBLIC_ERRORS, 404), public=True, description=(
    "Sends a 6-digit code (valid 5 minutes) to the mobile number or email. The answer is the "
    "same whether or not a customer exists. Limits: 1/minute, 5/hour, 10/day per destination, "
    "20/hour per client IP (429 with Retry-After)."))
@v1.arguments(SendOtpSchema)
@v1.response(202, OtpSentSchema)
def send_otp(body: dict[str, Any]) -> Any:
    company = _company(body["company"])
    try:
        with errors_on("destination", "mobile" if body.get("mobile") else "email"):
            sent = otp.send_code(company, body.get("mobile") or body.get("email") or "",
                                 ip=request.remote_addr or "")
    except (otp.OtpRateLimited, otp.OtpUnavailable) as error:
        return _otp_failure(error)
    return {"challenge_id": sent.challenge_id, "channel": sent.destination.channel,
            "destination": sent.destination.masked, "expires_in": sent.expires_in,
            "resend_in": sent.resend_in}


@v1.route(f"{PREFIX}/verify-otp/", methods=["POST"], tags=TAG)
@public
@v1.operation("Verify OTP", errors=PUBLIC_ERRORS, public=True, description=(
    "Exchanges the code for an access token and a refresh token. Wrong, expired and used codes "
    "all answer the same 401; a code allows 5 tries, a destination 10 failures an hour."))
@v1.arguments(VerifyOtpSchema)
@v1.response(200, TokenPairSchema)
def verify_otp(body: dict[str, Any]) -> Any:
    challenge = db.session.get(OtpChallenge, body["challenge_id"]) \
        if len(body["challenge_id"]) == 36 else None
    company_id = challenge.company_id if challenge is not None else ""
    try:
        destination = otp.verify_code(company_id, body["challenge_id"], body["code"])
    except (otp.OtpRateLimited, otp.OtpUnavailable) as error:
        return _otp_failure(error)
    company = db.session.get(Company, company_id)
    if company is None or company.deactivated_at is not None:
        raise AuthenticationFailed(otp.FAILURE_MESSAGE)
    customer = customer_auth.customer_for_destination(company, destination)
    return customer_auth.issue_tokens(customer).as_dict()


@v1.route(f"{PREFIX}/refresh-token/", methods=["POST"], tags=TAG)
@public
@v1.operation("Refresh Token", errors=(400, 401, 422), public=True, description=(
    "Rotates: answers a new pair and uses up the refresh token sent. Sending a used refresh "
    "token again revokes every token of that sign-in."))
@v1.arguments(RefreshSchema)
@v1.response(200, TokenPairSchema)
def refresh_token(body: dict[str, Any]) -> dict[str, Any]:
    return customer_auth.refresh(body["refresh_token"]).as_dict()


@v1.route(f"{PREFIX}/ping/", methods=["GET"], tags=TAG)
@public
@v1.operation("Auth Ping", errors=(401,), public=True, description=(
    "Checks a customer access token sent as `Authorization: Bearer <access token>`."))
@v1.response(200, PingSchema)
def auth_ping() -> dict[str, Any]:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AuthenticationFailed(customer_auth.INVALID)
    info = customer_auth.authenticate_access_token(raw.strip())
    return {"kind": "customer", "customer_id": info.principal.id,
            "company_id": info.principal.company_id, "expires_at": info.expires_at}


@v1.route(f"{PREFIX}/exchange-token/", methods=["POST"], tags=TAG)
@v1.operation("Exchange Token", errors=(400, 401, 403, 404, 422), description=(
    "An admin's or credit officer's credentials obtain a customer's tokens (to embed onboarding "
    "in another app). Name the customer by `customer_id`, or by `mobile`/`email` (created when "
    "missing unless `create_if_not_exists` is false). Only customers of the caller's company."))
@v1.arguments(ExchangeSchema)
@v1.response(200, TokenPairSchema)
def exchange_token(body: dict[str, Any]) -> dict[str, Any]:
    return customer_auth.exchange(principal(), customer_id=body.get("customer_id"),
                                  mobile=body.get("mobile"), email=body.get("email"),
                                  create=body["create_if_not_exists"]).as_dict()
