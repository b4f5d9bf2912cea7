"""Saved answers to requests sent with an Idempotency-Key, so a retry replays instead of repeating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, utcnow, uuid_pk


class IdempotencyRecord(Base):
    """One key of one caller: in flight while the request runs, then its saved 2xx answer.

    Keys are scoped to (company, principal): two callers may pick the same key without clashing.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("company_id", "principal", "key"), Index(None, "expires_at"))

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    principal: Mapped[str] = mapped_column(String(120))  # "kind:id" of the caller
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of method, path and body: the same key with another payload is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_flight")  # in_flight | completed
    # A request that died mid-way must not hold its key for a day; after this, a retry takes over.
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[Any] = mapped_column(JSONType, nullable=True, default=None)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
