"""The audit log: who did what to which object, append-only (no update or delete path exists)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow, uuid_pk

TABLE = "audit_log"


class AuditEntry(Base):
    """One audited event. Rows are only ever inserted; the ORM refuses to update or delete them."""

    __tablename__ = TABLE
    __table_args__ = (Index("ix_audit_log_company_created", "company_id", "created_at"),)

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    # `created_at` (not `at`) so the shared keyset pagination can page it.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | api | customer | system
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str | None] = mapped_column(String(200), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.target_type}:{self.target_id}>"


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_: Any) -> None:
    raise AuditLogIsAppendOnly("audit entries cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_: Any) -> None:
    raise AuditLogIsAppendOnly("audit entries cannot be deleted")


# PostgreSQL: the database itself refuses UPDATE and DELETE, so not even raw SQL from the app role
# can rewrite history. (TRUNCATE is not a row event; restrict it with grants in production.)
_PG_INSTALL = (
    f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()""",
)
_PG_REMOVE = (
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
)


def install_append_only_guard(connection: Connection) -> bool:
    """Install the refusing trigger (PostgreSQL only; idempotent). Call from the migration with
    `op.get_bind()`. Returns False on other backends, where the ORM guard above is all there is."""
    if connection.dialect.name != "postgresql":
        return False
    for statement in _PG_INSTALL:
        connection.execute(text(statement))
    return True


def remove_append_only_guard(connection: Connection) -> None:
    """The migration's downgrade counterpart of `install_append_only_guard`."""
    if connection.dialect.name == "postgresql":
        for statement in _PG_REMOVE:
            connection.execute(text(statement))
