"""Company secrets used by `${SECRET.x}`: encrypted at rest, decrypted only when a design uses them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, uuid_pk


class CompanySecret(TimestampMixin, Base):
    __tablename__ = "company_secrets"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    # Dotted names address nested values: "idfc.client_id" is `${SECRET.idfc.client_id}`.
    name: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
