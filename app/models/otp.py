"""One-time-code challenges and customer refresh tokens: the rows behind customer sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow, uuid_pk


class OtpChallenge(Base):
    """One code sent to one destination. Holds only an HMAC of the code, never the code.

    The HMAC input includes the challenge id and destination, so a stored value cannot be replayed
    against another challenge, and the server-side pepper makes the 10^6 possible codes useless to
    someone who only has the database.
    """

    __tablename__ = "otp_challenges"
    __table_args__ = (Index(None, "company_id", "destination", "created_at"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    destination: Mapped[str] = mapped_column(String(254))  # E.164 or lower-cased email
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    code_hmac: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set once: verified, voided by a newer code, or voided because the send failed.
    consumed_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerRefreshToken(Base):
    """A refresh token's server-side record; the token itself is a signed JWT whose `jti` is `id`.

    Tokens issued from one sign-in share a `family_id`. Each refresh marks the presented token used
    and issues its successor; presenting a used token again means it leaked, so the whole family
    is revoked (reuse detection).
    """

    __tablename__ = "customer_refresh_tokens"
    __table_args__ = (Index(None, "family_id"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    family_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
