"""Audit log page (admins): filters, keyset pages, CSV/JSON export of the filtered log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Response, abort, render_template, request
from wtforms import SelectChoice

from app.auth import current_principal, role_required
from app.services import audit
from app.services.audit import AuditFilter
from app.web.settings import bp
from app.web.settings.forms import AuditFilterForm

PAGE_SIZE = 50
MIMETYPES = {"csv": "text/csv", "json": "application/json"}


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _filter_form() -> tuple[AuditFilterForm, AuditFilter | None]:
    """The filter as typed, and what it selects: None while the form has an error, so a refused
    filter (dates swapped, a bad date) shows and exports nothing rather than the whole log."""
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "Any"), *(
        SelectChoice(a, a) for a in audit.known_actions(current_principal()))]
    if not form.validate():
        return form, None
    until = _start(form.until.data)
    return form, AuditFilter(
        action=form.action.data or "", actor=(form.actor.data or "").strip(),
        target_type=(form.target_type.data or "").strip(), target_id=(form.target_id.data or "").strip(),
        since=_start(form.since.data), until=until + timedelta(days=1) if until else None)


def _args(form: AuditFilterForm) -> dict[str, str]:
    """The filter for the paging and export links, as the admin typed it: AuditFilter's own `until`
    is the next day's start, and links built from it moved Until a day later on every page."""
    days = {"since": form.since.data, "until": form.until.data}
    args = {name: (form[name].data or "").strip() for name in ("action", "actor", "target_type", "target_id")}
    args.update({name: day.isoformat() for name, day in days.items() if day})
    return {name: value for name, value in args.items() if value}


@bp.get("/audit", endpoint="audit")
@role_required("admin")
def audit_page() -> str:
    form, where = _filter_form()
    page = None if where is None else audit.list_audit(
        current_principal(), where, limit=PAGE_SIZE, continuation_token=request.args.get("after") or None)
    return render_template("settings/audit.html", form=form, page=page, args=_args(form),
                           first_page=not request.args.get("after"))


@bp.get("/audit/export.<fmt>", endpoint="audit_export")
@role_required("admin")
def audit_export(fmt: str) -> Response:
    if fmt not in MIMETYPES:
        abort(404)
    _, where = _filter_form()
    if where is None:  # the page offers no export link for a refused filter
        abort(422)
    body = "".join(audit.export_audit(current_principal(), where, fmt))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(body, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"',
        "Cache-Control": "no-store"})
