"""Staff second factor: TOTP enrolment by QR code, verification with replay protection, recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets as random
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import MultiFernet
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import RecoveryCode, Role, SecurityPolicy, User, UserTotp
from app.models.base import utcnow
from app.services.audit import Action, record_audit
from app.services.errors import AuthenticationFailed, Conflict, FieldError, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.services.secrets import fernet

ISSUER = "Flowdesk"
RECOVERY_CODE_COUNT = 10
# Roles the company policy can force onto a second factor (viewers only read).
POLICY_ROLES = (Role.ADMIN.value, Role.CREDIT_OFFICER.value)
# One 30 s step either side tolerates phone clock drift without widening the window much.
_DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: 16 characters carry 80 bits


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret for manual entry and the same as a QR image."""

    secret: str
    uri: str
    qr_data_uri: str


def _totp_row(user: User) -> UserTotp | None:
    return db.session.scalar(select(UserTotp).where(UserTotp.user_id == user.id))


def _decrypt(row: UserTotp) -> str:
    return fernet().decrypt(row.secret_ciphertext).decode()


def is_enrolled(user: User) -> bool:
    row = _totp_row(user)
    return row is not None and row.confirmed_at is not None


def enrolled_user_ids(company_id: str) -> set[str]:
    """The company's users with a confirmed second factor, in one query (a list of many users)."""
    return set(db.session.scalars(select(UserTotp.user_id).where(UserTotp.company_id == company_id,
                                                                 UserTotp.confirmed_at.is_not(None))))


def second_factor_required(company_id: str) -> bool:
    """The company setting: admins and credit officers must use a second factor."""
    policy = db.session.get(SecurityPolicy, company_id)
    return bool(policy and policy.require_second_factor)


def must_enrol(user: User) -> bool:
    """True when the policy covers this user and they have no confirmed second factor yet."""
    return (user.has_role(*POLICY_ROLES) and second_factor_required(user.company_id)
            and not is_enrolled(user))


def set_policy(actor: Principal, *, require_second_factor: bool) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins change the sign-in policy.")
    policy = db.session.get(SecurityPolicy, actor.company_id)
    if policy is None:
        policy = SecurityPolicy(company_id=actor.company_id)
        db.session.add(policy)
    if policy.require_second_factor != require_second_factor:
        policy.require_second_factor = require_second_factor
        record_audit(actor, Action.MFA_POLICY_CHANGED, "company", actor.company_id,
                     {"require_second_factor": require_second_factor})
    db.session.commit()


def start_enrolment(user: User) -> Enrolment:
    """Create (or, on a reload, reuse) the unconfirmed secret and return what to scan."""
    row = _totp_row(user)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("A second factor is already set up; turn it off first to replace it.")
    if row is None:
        row = UserTotp(company_id=user.company_id, user_id=user.id,
                       secret_ciphertext=fernet().encrypt(pyotp.random_base32().encode()))
        db.session.add(row)
        db.session.commit()
    secret = _decrypt(row)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret, uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _matching_step(row: UserTotp, code: str) -> int | None:
    totp = pyotp.TOTP(_decrypt(row))
    now = totp.timecode(utcnow())
    for step in range(now - _DRIFT_STEPS, now + _DRIFT_STEPS + 1):
        if step > row.last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(row: UserTotp, step: int) -> bool:
    # A conditional UPDATE, so two requests racing with the same code cannot both win.
    result = db.session.execute(update(UserTotp).where(
        UserTotp.id == row.id, UserTotp.last_used_step < step).values(last_used_step=step))
    return result.rowcount == 1  # type: ignore[attr-defined]


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Check a first code from the app, switch the factor on, return the recovery codes (shown once)."""
    row = _totp_row(user)
    if row is None or row.confirmed_at is not None:
        raise Conflict("Start the set-up again.")
    step = _matching_step(row, _digits(code))
    if step is None or not _claim_step(row, step):
        db.session.rollback()
        raise ValidationFailed("Wrong code.", [FieldError("code", "That code is not right; check the "
                                                                  "phone's clock and try the next one.")])
    row.confirmed_at = utcnow()
    codes = _replace_recovery_codes(user)
    record_audit(Principal.for_user(user), Action.MFA_ENABLED, "user", user.id)
    db.session.commit()
    return codes


def verify(user: User, code: str) -> str:
    """Check a TOTP or recovery code at sign-in; return "totp" or "recovery", or raise one message."""
    row = _totp_row(user)
    if row is None or row.confirmed_at is None:
        raise AuthenticationFailed("No second factor is set up.")
    digits = _digits(code)
    if len(digits) == 6:
        step = _matching_step(row, digits)
        if step is not None and _claim_step(row, step):
            db.session.commit()
            return "totp"
    elif _use_recovery_code(user, code):
        record_audit(Principal.for_user(user), Action.MFA_RECOVERY_CODE_USED, "user", user.id,
                     {"remaining": remaining_recovery_codes(user)})
        db.session.commit()
        return "recovery"
    db.session.rollback()
    raise AuthenticationFailed("That code is not right.")


def disable(user: User, password: str) -> None:
    """Turn the second factor off (password needed); refused while the company policy requires it."""
    _check_password(user, password)
    if user.has_role(*POLICY_ROLES) and second_factor_required(user.company_id):
        raise PermissionDenied("Your company requires a second factor for your role.")
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(UserTotp).where(UserTotp.user_id == user.id))
    record_audit(Principal.for_user(user), Action.MFA_DISABLED, "user", user.id)
    db.session.commit()


def remove_second_factor(user: User) -> bool:
    """Delete the user's confirmed TOTP secret and their recovery codes; False when they had none.

    No audit and no commit: the calling use case (an admin's reset) audits who did it and commits.
    The conditional DELETE is the check itself, so two admins resetting at once remove it only once.
    """
    removed = db.session.execute(delete(UserTotp).where(
        UserTotp.user_id == user.id, UserTotp.confirmed_at.is_not(None)))
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return True


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """Replace every recovery code (the old ones stop working) and return the new ones once."""
    _check_password(user, password)
    if not is_enrolled(user):
        raise Conflict("Set up a second factor first.")
    codes = _replace_recovery_codes(user)
    record_audit(Principal.for_user(user), Action.MFA_RECOVERY_CODES_REGENERATED, "user", user.id)
    db.session.commit()
    return codes


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def reencrypt_all(keys: MultiFernet) -> int:
    """Re-encrypt every TOTP secret with the first key of `keys` (no commit); return how many."""
    rows = list(db.session.scalars(select(UserTotp)))
    for row in rows:
        row.secret_ciphertext = keys.rotate(row.secret_ciphertext)
    return len(rows)


def _check_password(user: User, password: str) -> None:
    if not user.check_password(password):
        raise ValidationFailed("Wrong password.", [FieldError("password", "This is not your password.")])


def _digits(code: str) -> str:
    return "".join(code.split())


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch not in " -")


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(random.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(company_id=user.company_id, user_id=user.id,
                                    code_hash=_hash_recovery(raw)))
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    if len(_normalise_recovery(code)) != 16:
        return False
    result = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(code),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
    return result.rowcount == 1  # type: ignore[attr-defined]
