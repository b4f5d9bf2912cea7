"""Runners (live instances of a design), their stores, and one execution row per node visit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, TimestampMixin, uuid_pk


class Store(TimestampMixin, Base):
    """A runner's data (seed 000's Store). Kept apart from engine state so steps write small rows."""

    __tablename__ = "stores"

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Runner(TimestampMixin, Base):
    __tablename__ = "runners"
    __table_args__ = (
        UniqueConstraint("company_id", "ref_id"),
        Index(None, "company_id", "created_at", "id"),
        Index(None, "company_id", "flow_id", "status"),
    )

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    ref_id: Mapped[str] = mapped_column(String(40))  # RUNNER-YYMM-N, unique per company
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id"))
    design_id: Mapped[str] = mapped_column(ForeignKey("designs.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None, index=True)
    parent_runner_id: Mapped[str | None] = mapped_column(ForeignKey("runners.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    stage: Mapped[str | None] = mapped_column(String(80), default=None)
    current_nodes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Engine state without the store (dump_state(include_store=False)), schema-versioned.
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Optimistic concurrency: every state write is `WHERE version = :seen`, so two transitions of one
    # runner can never both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The parent's StartChild effect this runner answers when it ends (sub-flows).
    parent_effect_id: Mapped[str | None] = mapped_column(String(120), default=None)
    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Execution(Base):
    """One visit (one attempt) of one node: the runner's step history."""

    __tablename__ = "executions"
    __table_args__ = (Index(None, "runner_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # engine record id, unique per runner
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    node: Mapped[str] = mapped_column(String(120))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(80), default=None)
    actor: Mapped[str | None] = mapped_column(String(120), default=None)
    input: Mapped[Any] = mapped_column(JSONType, default=None)
    output: Mapped[Any] = mapped_column(JSONType, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkItem(Base):
    """Durable work: an effect to perform, a timer or a retry, due at a time and claimed by lease.

    Inserted in the same transaction as the state that asked for it (an outbox), deleted in the same
    transaction as the state that consumed its result, and only by the holder of its lease token, so
    a worker that lost its lease (a zombie) cannot record a result twice.
    """

    __tablename__ = "work_items"
    __table_args__ = (UniqueConstraint("runner_id", "effect_id"), Index(None, "due_at"))

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"))
    effect_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    lease_token: Mapped[str | None] = mapped_column(String(36), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)


class Counter(Base):
    """Per-company sequences (e.g. runner ref ids), incremented atomically."""

    __tablename__ = "counters"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class ActivityEntry(Base):
    """What happened to a runner, for people: created, executed, moved, decided, cancelled...

    Never holds secrets: services write only masked values here.
    """

    __tablename__ = "activity"
    __table_args__ = (Index(None, "runner_id", "at"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    runner_id: Mapped[str] = mapped_column(ForeignKey("runners.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(120), default=None)
    node: Mapped[str | None] = mapped_column(String(120), default=None)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
