"""Flows and their versioned designs: a flow has many designs, one of them current."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import Base, JSONType, TimestampMixin, uuid_pk


def flow_name_key(name: str) -> str:
    """How flow names are compared: pages collapse spaces, and people do not read case as a
    difference, so "Home  Loans" and "home loans" are one name."""
    return " ".join(name.split()).casefold()


class Flow(TimestampMixin, Base):
    __tablename__ = "flows"
    # Names are unique per company as people read them (`name_key`): two flows named alike would
    # show as two identical entries in every picker. The database holds it, so two admins creating
    # the same name at once cannot both succeed.
    __table_args__ = (UniqueConstraint("company_id", "slug"), UniqueConstraint("company_id", "name_key"))

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(800))  # flow_name_key(name): casefold may lengthen it
    slug: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    current_design_id: Mapped[str | None] = mapped_column(
        ForeignKey("designs.id", use_alter=True), default=None)
    # Customers may start it (at /onboard/<slug>) only when an admin opened it to them: a flow is
    # staff-only until then, however its current version looks.
    customer_onboarding: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = flow_name_key(name)
        return name


class DesignVersion(TimestampMixin, Base):
    """One saved version of a flow's graph. Runners pin the version they started on.

    Named DesignVersion so it never shares a name with the engine's compiled `Design`.
    """

    __tablename__ = "designs"
    __table_args__ = (UniqueConstraint("flow_id", "version"), Index(None, "company_id", "flow_id"))

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the design JSON (docs/designs.md)
    # Hash of `document`: the engine's compiled-design cache key, shared by every runner on it.
    checksum: Mapped[str] = mapped_column(String(64))
    is_valid: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)
