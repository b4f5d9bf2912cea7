"""Company secrets used by `${SECRET.x}`: encrypted at rest, decrypted only when a design uses them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, TimestampMixin, uuid_pk

# Parts of an api_call request a secret may be rendered into; "auth" is auth_token_config and
# encryption_config. The URL, query and everything else never may: they end up in access logs.
SECRET_FIELDS = ("headers", "body", "auth")
ANY_HOST = "*"


class CompanySecret(TimestampMixin, Base):
    __tablename__ = "company_secrets"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    # Dotted names address nested values: "idfc.client_id" is `${SECRET.idfc.client_id}`.
    name: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    # Subset of SECRET_FIELDS. Rows from before this column existed migrate to all of them.
    allowed_fields: Mapped[list[str]] = mapped_column(JSONType, default=lambda: list(SECRET_FIELDS))
    # Host names the value may travel to: exact, "*.example.com" (subdomains), or ANY_HOST.
    allowed_hosts: Mapped[list[str]] = mapped_column(JSONType, default=lambda: [ANY_HOST])
