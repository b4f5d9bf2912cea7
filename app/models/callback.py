"""Callback correlation tokens and the event ids already accepted (for de-duplication)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class CallbackToken(Base):
    """Ties an inbound POST to the runner and node that wait for it."""

    __tablename__ = "callback_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"), index=True)
    node: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackEvent(Base):
    """An accepted callback event id; a replay of the same id is answered but not applied again."""

    __tablename__ = "callback_events"
    __table_args__ = (UniqueConstraint("company_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    event_id: Mapped[str] = mapped_column(String(120))
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
