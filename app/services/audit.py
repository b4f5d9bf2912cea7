"""The audit log service: record events (never secrets), list them for admins, export them."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, select

from app.extensions import db
from app.models import AuditEntry
from app.services.errors import PermissionDenied
from app.services.pagination import Page, paginate
from app.services.principal import Principal


class Action:
    """Every audited action name, so pages can offer them as filters and typos fail at import.

    Every `record_audit` call names its action from here, so the audit page's Action filter offers
    each one before the first is recorded (tests/security/test_audit.py checks it).
    """

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    MFA_RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
    MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"
    MFA_POLICY_CHANGED = "mfa.policy_changed"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105  an action name
    SESSIONS_ENDED = "sessions.ended"
    USER_CREATED = "user.created"
    USER_ROLES_CHANGED = "user.roles_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105  an action name
    USER_SECOND_FACTOR_RESET = "user.second_factor_reset"
    TOKEN_CREATED = "token.created"  # noqa: S105  an action name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105  an action name
    SECRET_CREATED = "secret.created"  # noqa: S105  an action name
    SECRET_UPDATED = "secret.updated"  # noqa: S105  an action name
    SECRET_DELETED = "secret.deleted"  # noqa: S105  an action name
    SECRET_READ = "secret.read"  # noqa: S105  an action name
    SECRET_USE_REFUSED = "secret.use_refused"  # noqa: S105  an action name (secret_guard)
    SECRETS_KEY_ROTATED = "secrets.key_rotated"
    AUDIT_EXPORTED = "audit.exported"
    OUTBOUND_ALLOW_ADDED = "outbound.allow_added"
    OUTBOUND_ALLOW_REMOVED = "outbound.allow_removed"
    FLOW_CREATED = "flow.created"
    FLOW_ONBOARDING_OPENED = "flow.onboarding_opened"
    FLOW_ONBOARDING_CLOSED = "flow.onboarding_closed"
    DESIGN_CREATED = "design.created"
    DESIGN_UPDATED = "design.updated"
    DESIGN_DUPLICATED = "design.duplicated"
    DESIGN_MARKED_CURRENT = "design.marked_current"
    RUNNER_CANCELLED = "runner.cancelled"
    RUNNER_RETRIED = "runner.retried"
    RUNNER_DESIGN_MOVED = "runner.design_moved"
    APPROVAL_APPROVED = "approval.approved"
    APPROVAL_REJECTED = "approval.rejected"
    CHECKLIST_ITEM_TICKED = "checklist.item_ticked"
    CHECKLIST_ITEM_UNTICKED = "checklist.item_unticked"
    DOCUMENT_UPLOADED = "document.uploaded"
    DOCUMENT_VERIFIED = "document.verified"
    DOCUMENT_REUPLOAD_REQUESTED = "document.reupload_requested"
    STORE_CREATED = "store.created"
    STORE_UPDATED = "store.updated"

    @classmethod
    def all(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())


# Detail keys that could carry a credential; their values are replaced, whatever the caller passed.
# Whatever the value's type, too: a boolean or number under such a key may still be (part of) a secret
# (a JSON secret can be `true` or a PIN), so a readable detail gets a key that names no value instead.
_SECRET_KEY = re.compile(r"pass|secret|token|otp|code|value|cipher|key|credential|authorization", re.I)
REDACTED = "[redacted]"
EXPORT_LIMIT = 50_000
EXPORT_COLUMNS = ("created_at", "action", "actor_kind", "actor_id", "actor_name", "target_type",
                  "target_id", "ip", "details")


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record_audit(actor: Principal | None, action: str, target_type: str, target_id: str | None,
                 details: dict[str, Any] | None = None, *, company_id: str | None = None) -> AuditEntry:
    """Add an audit row to the session (no commit: it lands with the caller's transaction).

    `actor` None means the system acting for `company_id`. `details` must not hold secrets: keys that
    look like credentials are redacted regardless.
    """
    company = company_id or (actor.company_id if actor else None)
    if not company:
        raise ValueError("an audit entry needs a company")
    entry = AuditEntry(
        company_id=company, action=action, target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        actor_kind=actor.kind if actor else "system",
        actor_id=actor.id if actor and actor.kind != "system" else None,
        actor_name=(actor.name if actor else "Flowdesk")[:200],
        details=_scrub(details or {}),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def audit_secret_read(company_id: str, runner_id: str | None, name: str) -> AuditEntry:
    """The runtime's hook: a design decrypted secret `name` for runner `runner_id` (no commit)."""
    return record_audit(None, Action.SECRET_READ, "secret", name,
                        {"runner_id": runner_id, "name": name}, company_id=company_id)


@dataclass(frozen=True)
class AuditFilter:
    """What an admin narrows the log to; empty fields do not filter."""

    action: str = ""
    actor: str = ""  # matches the actor's name or id
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_args(self) -> dict[str, str]:
        args = {"action": self.action, "actor": self.actor, "target_type": self.target_type,
                "target_id": self.target_id,
                "since": self.since.date().isoformat() if self.since else "",
                "until": self.until.date().isoformat() if self.until else ""}
        return {k: v for k, v in args.items() if v}


def _require_admin(actor: Principal) -> None:
    if not actor.has_role("admin"):
        raise PermissionDenied("Only admins read the audit log.")


def _statement(actor: Principal, where: AuditFilter) -> Select[Any]:
    statement = select(AuditEntry).where(AuditEntry.company_id == actor.company_id)
    if where.action:
        statement = statement.where(AuditEntry.action == where.action)
    if where.actor:
        # Part of a name, in any case ("priya" finds "Priya Officer"), or an exact id.
        statement = statement.where(AuditEntry.actor_name.icontains(where.actor, autoescape=True)
                                    | (AuditEntry.actor_id == where.actor))
    if where.target_type:
        statement = statement.where(AuditEntry.target_type == where.target_type)
    if where.target_id:
        statement = statement.where(AuditEntry.target_id == where.target_id)
    if where.since:
        statement = statement.where(AuditEntry.created_at >= where.since)
    if where.until:
        statement = statement.where(AuditEntry.created_at < where.until)
    return statement


def known_actions(actor: Principal) -> list[str]:
    """Every action name a filter can offer: the built-in ones and any this company's log holds."""
    _require_admin(actor)
    recorded = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.company_id == actor.company_id).distinct())
    return sorted(set(Action.all()) | set(recorded))


def list_audit(actor: Principal, where: AuditFilter | None = None, *, limit: int = 50,
               continuation_token: str | None = None) -> Page[AuditEntry]:
    """One page of the actor's company's log, newest first (admins only)."""
    _require_admin(actor)
    return paginate(_statement(actor, where or AuditFilter()), AuditEntry, scope="audit",
                    limit=limit, continuation_token=continuation_token)


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {"created_at": entry.created_at.isoformat(), "action": entry.action,
            "actor_kind": entry.actor_kind, "actor_id": entry.actor_id, "actor_name": entry.actor_name,
            "target_type": entry.target_type, "target_id": entry.target_id, "ip": entry.ip,
            "details": entry.details}


def export_audit(actor: Principal, where: AuditFilter | None, fmt: str) -> Iterator[str]:
    """The filtered log as CSV or JSON text chunks (newest first, at most EXPORT_LIMIT rows).

    The export itself is audited and committed first, so even a failed download leaves a trace.
    """
    _require_admin(actor)
    if fmt not in {"csv", "json"}:
        raise ValueError(f"unknown export format {fmt!r}")
    where = where or AuditFilter()
    record_audit(actor, Action.AUDIT_EXPORTED, "audit_log", None, {"format": fmt, **where.as_args()})
    db.session.commit()
    statement = (_statement(actor, where).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                 .limit(EXPORT_LIMIT))
    rows = (_row(e) for e in db.session.scalars(statement))
    return _csv(rows) if fmt == "csv" else _json(rows)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        row["details"] = json.dumps(row["details"], sort_keys=True)
        # Cells starting with = + - @ would run as formulas in a spreadsheet (CSV injection).
        writer.writerow({k: "'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v
                         for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _json(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row, sort_keys=True)
    yield "]\n"
