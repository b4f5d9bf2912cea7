"""Checklist templates, and the checklists a runner's checklist node opens from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, TimestampMixin, uuid_pk


class ChecklistTemplate(TimestampMixin, Base):
    """A reusable list: `items` is `[{"key", "title", "required", "roles"}]`.

    Runner checklists copy the items when they open, so editing or deleting a template never
    changes a checklist already under way.
    """

    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str | None] = mapped_column(String(120), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(120), default=None)


class Checklist(TimestampMixin, Base):
    """One checklist on one runner node; `version` serialises ticks so completion is seen once."""

    __tablename__ = "checklists"
    __table_args__ = (UniqueConstraint("company_id", "runner_id", "effect_id"),
                      Index(None, "company_id", "status"))

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"), index=True)
    flow_id: Mapped[str | None] = mapped_column(ForeignKey("flows.id"), default=None)
    node: Mapped[str] = mapped_column(String(120))
    effect_id: Mapped[str] = mapped_column(String(120))
    stage: Mapped[str | None] = mapped_column(String(80), default=None)
    template_id: Mapped[str | None] = mapped_column(String(36), default=None)  # no FK: templates may go
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | withdrawn
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position", lazy="selectin")


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("checklist_id", "key"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    checklist_id: Mapped[str] = mapped_column(ForeignKey("checklists.id"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: any officer
    position: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[str | None] = mapped_column(String(120), default=None)
    done_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    checklist: Mapped[Checklist] = relationship(back_populates="items")
