"""A company's outbound allowlist: private hosts and networks its api_call nodes and senders may reach."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, uuid_pk


class OutboundAllowEntry(TimestampMixin, Base):
    """One host name or CIDR network exempted from the private-address refusal (merged with the
    FLOWDESK_OUTBOUND_ALLOW_* settings). Public destinations need no entry."""

    __tablename__ = "outbound_allow_entries"
    __table_args__ = (UniqueConstraint("company_id", "value"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # host | network
    # Normalised: host names lower-case without a trailing dot, networks in CIDR form.
    value: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
