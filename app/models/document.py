"""Documents a runner asks for (or an API client creates) and the files uploaded to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin, utcnow, uuid_pk


class Document(TimestampMixin, Base):
    """One required or offered document (a PAN card, bank statements...) of a runner.

    Status: requested (no file yet), uploaded, verified, or reupload (an officer asked again).
    """

    __tablename__ = "documents"
    __table_args__ = (Index(None, "company_id", "runner_id", "doc_type"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    runner_id: Mapped[str | None] = mapped_column(ForeignKey("runners.id"), default=None)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None)
    node: Mapped[str | None] = mapped_column(String(120), default=None)
    effect_id: Mapped[str | None] = mapped_column(String(120), default=None)
    doc_type: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200), default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    note: Mapped[str] = mapped_column(Text, default="")  # why a re-upload was asked for
    verified_by: Mapped[str | None] = mapped_column(String(120), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str | None] = mapped_column(String(120), default=None)

    files: Mapped[list[DocumentFile]] = relationship(
        back_populates="document", order_by="DocumentFile.uploaded_at", lazy="selectin")


class DocumentFile(Base):
    """A stored file. `content_type` was sniffed from the bytes, never taken from the client."""

    __tablename__ = "document_files"

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))  # sanitised, for Content-Disposition only
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))  # opaque to everyone but storage.py
    uploaded_by: Mapped[str | None] = mapped_column(String(120), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="files")
