"""One-time codes: normalise the destination, rate-limit, send, and verify (single use, constant time).

Rules (OWASP ASVS 5.0 §6.5-6.6, NIST SP 800-63B): 6 digits from `secrets`, valid 5 minutes, one
challenge one code, stored as HMAC-SHA256 under a server-side pepper, at most 5 tries per code,
at most 10 failed verifications per destination per hour; sending is limited to 1/minute, 5/hour
and 10/day per destination and 20/hour per client IP. Counters live in Flask-Limiter's storage, so
they are shared by every worker when it is Redis; if that storage is unreachable nothing is sent
(fail closed). Answers do not depend on whether a customer exists for the destination.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from limits import RateLimitItem, parse
from sqlalchemy import update

from app.config import ConfigError
from app.extensions import db, limiter
from app.models import Company, OtpChallenge
from app.models.base import new_id
from app.services import senders
from app.services.clock import now as utcnow
from app.services.errors import AuthenticationFailed, FieldError, RateLimited, ServiceError, ValidationFailed

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_SECONDS = 60
SEND_LIMITS = tuple(parse(v) for v in ("1/minute", "5/hour", "10/day"))  # per destination
IP_SEND_LIMIT = parse("20/hour")
FAILURE_LIMIT = parse("10/hour")  # failed verifications per destination
# One message for wrong, expired, used, voided and unknown codes: they must be indistinguishable.
FAILURE_MESSAGE = "That code is not valid. Check it, or ask for a new code."
TOO_MANY_MESSAGE = "Too many attempts. Please wait a while, then ask for a new code."
DEFAULT_REGION = "IN"


@dataclass
class OtpRateLimited(RateLimited):
    """A limit was hit; `retry_after` (seconds) is when the tightest one frees up."""

    retry_after: int = RESEND_SECONDS


class OtpUnavailable(ServiceError):
    """Codes cannot be sent or checked right now (the limiter store is down, or delivery failed).

    Not mapped by app/errors.py: the OTP views answer it themselves (503 / a retry message).
    """


@dataclass(frozen=True)
class Destination:
    channel: str  # sms | email
    value: str  # E.164 number or lower-cased email

    @property
    def masked(self) -> str:
        """For showing back to the person: enough to recognise, not enough to harvest."""
        if self.channel == "email":
            local, _, domain = self.value.partition("@")
            return f"{local[:1]}***@{domain}"
        return f"{self.value[:3]}******{self.value[-2:]}"


@dataclass(frozen=True)
class SentChallenge:
    challenge_id: str
    destination: Destination
    expires_in: int
    resend_in: int


def _setting(name: str, default: str = "") -> str:
    return senders.setting(name, default)


def default_region() -> str:
    return _setting("FLOWDESK_OTP_DEFAULT_REGION", DEFAULT_REGION).upper()


def normalise_destination(raw: str, *, region: str | None = None) -> Destination:
    """A mobile number as E.164 (numbers without `+` read in `region`), or an email lower-cased."""
    raw = (raw or "").strip()
    invalid = ValidationFailed("Enter a valid mobile number or email address.",
                               [FieldError("destination", "Enter a valid mobile number or email address.")])
    if not raw or len(raw) > 254:
        raise invalid
    if "@" in raw:
        try:
            checked = validate_email(raw, check_deliverability=False)
        except EmailNotValidError:
            raise invalid from None
        return Destination("email", checked.normalized.lower())
    try:
        number = phonenumbers.parse(raw, region or default_region())
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return Destination("sms", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def pepper() -> bytes:
    """`FLOWDESK_OTP_PEPPER`, else a key derived from SECRET_KEY (never the SECRET_KEY itself)."""
    configured = _setting("FLOWDESK_OTP_PEPPER")
    if configured:
        return configured.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"flowdesk-otp-pepper-v1",
                    hashlib.sha256).digest()


def code_hmac(challenge_id: str, destination: str, code: str) -> str:
    message = f"{challenge_id}\x1f{destination}\x1f{code}".encode()
    return hmac.new(pepper(), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


# --- limiter ----------------------------------------------------------------------------------------
def _strategy() -> object:
    storage_uri = str(current_app.config.get("RATELIMIT_STORAGE_URI", "memory://"))
    try:
        # A networked store answers a ping; Flask-Limiter's in-memory fallback must never stand in
        # for it here, because per-process counters would multiply every limit by the worker count.
        if not storage_uri.startswith("memory") and not limiter.storage.check():
            raise OtpUnavailable("Codes cannot be sent right now. Please try again in a few minutes.")
        return limiter.limiter
    except OtpUnavailable:
        raise
    except Exception:
        raise OtpUnavailable("Codes cannot be sent right now. Please try again in a few minutes.") from None


def _call(method: str, item: RateLimitItem, *keys: str) -> object:
    strategy = _strategy()
    try:
        return getattr(strategy, method)(item, *keys)
    except Exception:
        raise OtpUnavailable("Codes cannot be sent right now. Please try again in a few minutes.") from None


def _retry_after(item: RateLimitItem, *keys: str) -> int:
    stats = _call("get_window_stats", item, *keys)
    reset = getattr(stats, "reset_time", 0)
    return max(1, int(reset - utcnow().timestamp()) + 1)


def _check_and_hit(checks: list[tuple[RateLimitItem, tuple[str, ...]]]) -> None:
    for item, keys in checks:
        if not _call("test", item, *keys):
            raise OtpRateLimited(TOO_MANY_MESSAGE, retry_after=_retry_after(item, *keys))
    for item, keys in checks:
        if not _call("hit", item, *keys):  # lost a race with a concurrent request
            raise OtpRateLimited(TOO_MANY_MESSAGE, retry_after=_retry_after(item, *keys))


# --- use cases --------------------------------------------------------------------------------------
def send_code(company: Company, raw_destination: str, *, ip: str) -> SentChallenge:
    """Send a fresh code to the destination and return its challenge; older codes stop working.

    Raises ValidationFailed (bad destination), OtpRateLimited, or OtpUnavailable (store down or
    the sender failed; a failed send does not use up the one-per-minute allowance).
    """
    destination = normalise_destination(raw_destination)
    # Keys are per destination across companies: the limits protect the phone's owner.
    dest_key = f"{destination.channel}:{destination.value}"
    _check_and_hit([(IP_SEND_LIMIT, ("otp-send-ip", ip or "unknown"))]
                   + [(item, ("otp-send", dest_key)) for item in SEND_LIMITS])
    now = utcnow()
    code, challenge_id = new_code(), new_id()
    db.session.execute(update(OtpChallenge).where(
        OtpChallenge.company_id == company.id, OtpChallenge.destination == destination.value,
        OtpChallenge.consumed_at.is_(None)).values(consumed_at=now))
    challenge = OtpChallenge(id=challenge_id, company_id=company.id, destination=destination.value,
                             channel=destination.channel, created_at=now, expires_at=now + CODE_TTL,
                             code_hmac=code_hmac(challenge_id, destination.value, code))
    db.session.add(challenge)
    db.session.commit()
    minutes = int(CODE_TTL.total_seconds() // 60)
    message = senders.OutgoingMessage(
        company_id=company.id, channel=destination.channel, to=destination.value,
        subject=f"Your {company.name} verification code",
        body=f"{code} is your {company.name} verification code. It expires in {minutes} minutes. "
             "Never share it with anyone.",
        code=code)
    try:
        senders.get_sender().send(message)
    except senders.SendFailed as error:
        challenge.consumed_at = utcnow()
        db.session.commit()
        _call("clear", SEND_LIMITS[0], "otp-send", dest_key)
        raise OtpUnavailable(error.message) from None
    return SentChallenge(challenge_id, destination, int(CODE_TTL.total_seconds()), RESEND_SECONDS)


def verify_code(company_id: str, challenge_id: str, code: str) -> Destination:
    """The destination the code was sent to, if `code` answers the live challenge; used up on success.

    Every failure raises the same AuthenticationFailed(FAILURE_MESSAGE); after 10 failures for a
    destination within an hour, OtpRateLimited even for the right code.
    """
    code = (code or "").strip().replace(" ", "")
    challenge = db.session.get(OtpChallenge, challenge_id) if len(challenge_id or "") == 36 else None
    if challenge is None or challenge.company_id != company_id:
        code_hmac(new_id(), "unknown", code)  # same work as a real check, so timing says nothing
        raise AuthenticationFailed(FAILURE_MESSAGE)
    fail_key = ("otp-fail", f"{challenge.channel}:{challenge.destination}")
    if not _call("test", FAILURE_LIMIT, *fail_key):
        raise OtpRateLimited(TOO_MANY_MESSAGE, retry_after=_retry_after(FAILURE_LIMIT, *fail_key))
    now = utcnow()
    # Counting the try in the same statement that checks the challenge is live makes "5 tries"
    # hold under concurrent requests too.
    counted = db.session.execute(update(OtpChallenge).where(
        OtpChallenge.id == challenge.id, OtpChallenge.consumed_at.is_(None),
        OtpChallenge.attempts < MAX_TRIES, OtpChallenge.expires_at > now,
    ).values(attempts=OtpChallenge.attempts + 1).execution_options(synchronize_session=False)).rowcount
    expected = code_hmac(challenge.id, challenge.destination, code)
    matches = hmac.compare_digest(expected, challenge.code_hmac)
    if counted == 1 and matches and code.isdigit() and len(code) == CODE_DIGITS:
        used = db.session.execute(update(OtpChallenge).where(
            OtpChallenge.id == challenge.id, OtpChallenge.consumed_at.is_(None),
        ).values(consumed_at=now).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if used == 1:
            return Destination(challenge.channel, challenge.destination)
    else:
        db.session.commit()
    _call("hit", FAILURE_LIMIT, *fail_key)
    raise AuthenticationFailed(FAILURE_MESSAGE)


def configured_workers(app: Flask) -> int:
    raw = app.config.get("FLOWDESK_WORKERS") or os.environ.get("FLOWDESK_WORKERS") \
        or os.environ.get("WEB_CONCURRENCY") or "1"
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"FLOWDESK_WORKERS / WEB_CONCURRENCY must be a number, not {raw!r}.") from None


def check_deployment(app: Flask) -> None:
    """Refuse to start when OTP limits could not hold: per-process memory counters across workers."""
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory") and configured_workers(app) > 1:
        raise ConfigError(
            "Several worker processes with in-memory rate limits would multiply every OTP limit by "
            "the number of workers. Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) or run one worker "
            "(FLOWDESK_WORKERS=1 / WEB_CONCURRENCY=1).")
    region = str(app.config.get("FLOWDESK_OTP_DEFAULT_REGION") or os.environ.get(
        "FLOWDESK_OTP_DEFAULT_REGION") or DEFAULT_REGION).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"FLOWDESK_OTP_DEFAULT_REGION {region!r} is not a known region code (e.g. IN).")
