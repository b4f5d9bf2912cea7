"""Staff second factor: one TOTP secret per user (encrypted), one-time recovery codes, company policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, uuid_pk


class UserTotp(TimestampMixin, Base):
    """A user's authenticator secret. Unconfirmed (`confirmed_at` None) until a code proves the scan."""

    __tablename__ = "user_totp"

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    # Fernet token of the base32 secret (the same keys as company secrets, rotated together).
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The newest TOTP time step accepted, so a code seen once (shoulder-surfed, phished) is dead.
    last_used_step: Mapped[int] = mapped_column(default=0)


class RecoveryCode(TimestampMixin, Base):
    """A one-time code for a lost phone; only its SHA-256 is stored."""

    # Codes carry 80 random bits, so a fast hash is enough: there is nothing to brute-force.
    __tablename__ = "user_recovery_codes"

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SecurityPolicy(TimestampMixin, Base):
    """Per-company sign-in rules; a company without a row has the defaults (second factor optional)."""

    __tablename__ = "security_policies"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    require_second_factor: Mapped[bool] = mapped_column(default=False)
