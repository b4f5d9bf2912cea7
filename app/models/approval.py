"""Approval requests (levels, approvers, SLA) and the decisions people make on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, TimestampMixin, utcnow, uuid_pk


class ApprovalRequest(TimestampMixin, Base):
    """One request for approval of a resource (a runner at an approval node, or any API resource).

    `levels` is `[{"name", "roles", "users", "min_approvals"}]`, already filtered by their
    conditions when the request opened; `current_level` is a 1-based index into it. `version`
    is bumped by every decision with `WHERE version = :seen`, so two decisions that read the
    same state can never both be recorded.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (
        UniqueConstraint("company_id", "runner_id", "effect_id"),
        Index(None, "company_id", "status", "due_at"),
        Index(None, "company_id", "resource_type", "resource_id"),
    )

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    resource_type: Mapped[str] = mapped_column(String(40), default="runner")
    resource_id: Mapped[str] = mapped_column(String(120))
    runner_id: Mapped[str | None] = mapped_column(ForeignKey("runners.id"), default=None, index=True)
    flow_id: Mapped[str | None] = mapped_column(ForeignKey("flows.id"), default=None)
    node: Mapped[str | None] = mapped_column(String(120), default=None)
    effect_id: Mapped[str | None] = mapped_column(String(120), default=None)
    stage: Mapped[str | None] = mapped_column(String(80), default=None)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|withdrawn
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    current_level: Mapped[int] = mapped_column(Integer, default=1)
    fields: Mapped[list[str]] = mapped_column(JSONType, default=list)  # store paths shown to deciders
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # the node's other metadata
    # Maker-checker: ids of whoever created the runner or submitted the step that opened this.
    makers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(120), default=None)

    decisions: Mapped[list[ApprovalDecision]] = relationship(
        back_populates="request", order_by="ApprovalDecision.at", lazy="selectin")

    @property
    def level(self) -> dict[str, Any]:
        """The level waiting for a decision (the last one once decided)."""
        return self.levels[min(self.current_level, len(self.levels)) - 1] if self.levels else {}

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.status == "pending" and self.due_at is not None and self.due_at < (now or utcnow())


class ApprovalDecision(Base):
    """Who decided what at which level, when, and why. Never updated or deleted."""

    __tablename__ = "approval_decisions"
    # One decision per person per level: a double click or a replay cannot count twice.
    __table_args__ = (UniqueConstraint("request_id", "level", "actor_id"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    request_id: Mapped[str] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(80), default="")
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ApprovalRequest] = relationship(back_populates="decisions")
