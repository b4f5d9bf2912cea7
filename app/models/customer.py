"""Customers: the borrowers who log in with a one-time code, unique per company by mobile or email."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, uuid_pk


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("company_id", "mobile"),
        UniqueConstraint("company_id", "email"),
        CheckConstraint("mobile IS NOT NULL OR email IS NOT NULL", name="has_contact"),
    )

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20), default=None)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), default=None)  # lower-cased
    name: Mapped[str | None] = mapped_column(String(200), default=None)

    def __repr__(self) -> str:
        return f"<Customer {self.mobile or self.email}>"
