"""The audit log: events recorded without secrets, append-only, admin-only page, filters and exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEntry
from app.models.audit import AuditLogIsAppendOnly, install_append_only_guard
from app.models.base import utcnow
from app.services import secrets, tokens
from app.services.audit import REDACTED, audit_secret_read, record_audit
from app.services.principal import Principal
from tests import databases
from tests.conftest import csrf_from


def _entries(company_id: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.company_id == company_id)
                                   .order_by(AuditEntry.created_at)))


def test_details_never_keep_credential_like_values(make_company):
    company = make_company()
    entry = record_audit(None, "test.event", "thing", "1", {
        "password": "hunter2", "nested": {"api_token": "fd_x", "ok": 1}, "name": "visible"},
        company_id=company.id)
    db.session.commit()
    assert entry.details == {"password": REDACTED, "nested": {"api_token": REDACTED, "ok": 1},
                             "name": "visible"}


def test_entries_cannot_be_changed_or_deleted_through_the_orm(make_company):
    entry = record_audit(None, "test.event", "thing", "1", company_id=make_company().id)
    db.session.commit()
    entry.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_postgresql_trigger_refuses_update_and_delete(require_postgres):
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from app.models import Company

    with databases.scratch_postgres_database(require_postgres) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            assert install_append_only_guard(conn)
            assert install_append_only_guard(conn)  # idempotent
            conn.execute(Company.__table__.insert().values(id="c1", name="C", slug="ccc",
                                                           created_at=utcnow()))
            conn.execute(AuditEntry.__table__.insert().values(
                id="a1", company_id="c1", created_at=utcnow(), actor_kind="system", actor_name="x",
                action="test", target_type="t", details={}))
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit_log")).scalar_one() == "test"
        engine.dispose()


def test_sign_ins_tokens_users_and_secrets_are_audited(client, auth, make_company, make_user):
    company = make_company()
    admin = make_user(company, name="Ada")
    auth.login(admin.email, "wrong password!!")
    auth.login(admin.email)
    actor = Principal.for_user(admin)
    issued = tokens.issue_api_token(actor, company, name="LOS")
    tokens.revoke_api_token(actor, issued.token.id)
    secrets.set_secret(actor, "bank", {"client_secret": "s3cr3t-value"})
    secrets.set_secret(actor, "bank", {"client_secret": "s3cr3t-value-2"})
    view = secrets.SecretsView(company.id, runner_id="runner-1")
    assert view["bank"]["client_secret"] == "s3cr3t-value-2"
    assert view["bank"]  # cached: one audit row per name and runner
    audit_secret_read(company.id, "runner-2", "bank")
    secrets.delete_secret(actor, "bank")
    db.session.commit()

    entries = _entries(company.id)
    assert [e.action for e in entries] == [
        "user.created", "login.failed", "login.succeeded", "token.created", "token.revoked",
        "secret.created", "secret.updated", "secret.read", "secret.read", "secret.deleted"]
    assert entries[3].actor_name == "Ada" and entries[3].target_id == issued.token.id
    assert entries[7].details == {"runner_id": "runner-1", "name": "bank"}
    dump = json.dumps([e.details for e in entries]) + repr([e.target_id for e in entries])
    assert "s3cr3t" not in dump and issued.raw not in dump


def test_audit_page_is_for_admins_of_the_company_only(client, auth, make_company, make_user):
    company, other = make_company(), make_company()
    admin, viewer = make_user(company), make_user(company, roles=("viewer",))
    record_audit(None, "test.other", "thing", "theirs", company_id=other.id)
    db.session.commit()
    auth.login(viewer.email)
    assert client.get("/settings/audit").status_code == 403
    assert client.get("/settings/audit/export.csv").status_code == 403
    auth.logout()
    auth.login(admin.email)
    page = client.get("/settings/audit").get_data(as_text=True)
    assert "login.succeeded" in page
    assert "theirs" not in page and "test.other" not in page.split("<table", 1)[1]


def test_filters_and_pages(client, auth, make_company, make_user):
    company = make_company()
    admin = make_user(company)
    for n in range(60):
        record_audit(None, "test.many", "thing", f"item-{n:02}", company_id=company.id)
    db.session.commit()
    auth.login(admin.email)
    first = client.get("/settings/audit?action=test.many").get_data(as_text=True)
    assert first.count("<code>test.many</code>") == 50
    assert "login.succeeded</code>" not in first
    older = first.split('href="/settings/audit?after=', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = client.get(f"/settings/audit?after={older}").get_data(as_text=True)
    assert second.count("<code>test.many</code>") == 10
    assert "Older entries" not in second
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert "Nothing recorded for this filter" in client.get(
        f"/settings/audit?since={tomorrow}").get_data(as_text=True)
    one = client.get("/settings/audit?target_id=item-07").get_data(as_text=True)
    assert one.count("<code>test.many</code>") == 1 and "<code>item-07</code>" in one


def test_the_actor_filter_finds_part_of_a_name_in_any_case_and_dates_out_of_order_say_so(
        client, auth, make_company, make_user):
    company = make_company()
    admin = make_user(company, name="Ada Admin")
    priya = make_user(company, name="Priya Officer")
    record_audit(Principal.for_user(priya), "test.priya", "thing", "p1")
    record_audit(None, "test.system", "thing", "s1", company_id=company.id)
    db.session.commit()
    auth.login(admin.email)
    found = client.get("/settings/audit?actor=priya").get_data(as_text=True)
    assert "<code>test.priya</code>" in found and "<code>test.system</code>" not in found
    assert "<code>test.priya</code>" in client.get(f"/settings/audit?actor={priya.id}").get_data(as_text=True)
    assert "Nothing recorded for this filter" in client.get("/settings/audit?actor=pri%25ya").get_data(
        as_text=True)  # a % typed is a character, not a wildcard
    swapped = client.get("/settings/audit?since=2026-11-20&until=2026-11-10").get_data(as_text=True)
    assert "Until is before From: nothing could match. Swap the dates." in swapped


def test_exports_are_attachments_filtered_safe_for_spreadsheets_and_audited(client, auth, make_company,
                                                                           make_user):
    company = make_company()
    admin = make_user(company)
    record_audit(None, "test.csv", "thing", "=HYPERLINK(\"http://evil\")", company_id=company.id)
    db.session.commit()
    auth.login(admin.email)
    response = client.get("/settings/audit/export.csv?action=test.csv")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"audit-")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1 and rows[0]["target_id"].startswith("'=")

    data = client.get("/settings/audit/export.json").get_json()
    assert {row["action"] for row in data} >= {"test.csv", "login.succeeded", "audit.exported"}
    assert client.get("/settings/audit/export.xml").status_code == 404
    exports = [e for e in _entries(company.id) if e.action == "audit.exported"]
    assert [e.details["format"] for e in exports] == ["csv", "json"]


def test_filter_form_carries_no_csrf_but_post_forms_do(client, auth, make_user):
    auth.login(make_user().email)
    html = client.get("/settings/audit").get_data(as_text=True)
    assert csrf_from(html)  # the sign-out form
    get_form = html.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert "csrf_token" not in get_form


# Actions written as f-strings, and every name they can take.
FORMATTED_ACTIONS = {"approval.": {"approval.approved", "approval.rejected"}}


def _recorded_actions() -> tuple[set[str], list[str]]:
    """Every action name a `record_audit(...)` call in app/ can write, and the calls not understood."""
    import ast
    import importlib
    from pathlib import Path

    import app as package

    root = Path(package.__file__).parent
    found: set[str] = set()
    unknown: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = importlib.import_module(".".join(("app", *path.relative_to(root).with_suffix("").parts))
                                         .removesuffix(".__init__"))
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record_audit"):
                continue
            pending = [node.args[1]]
            while pending:
                arg = pending.pop()
                if isinstance(arg, ast.IfExp):
                    pending += [arg.body, arg.orelse]
                elif isinstance(arg, ast.Constant):
                    found.add(arg.value)
                elif isinstance(arg, ast.Name | ast.Attribute):
                    found.add(eval(ast.unparse(arg), vars(module)))  # noqa: S307  our own source
                elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant) \
                        and arg.values[0].value in FORMATTED_ACTIONS:
                    found |= FORMATTED_ACTIONS[arg.values[0].value]
                else:
                    unknown.append(f"{path.relative_to(root)}:{arg.lineno}: {ast.unparse(arg)}")
    return found, unknown


def test_every_recorded_action_is_a_built_in_filter_choice():
    from app.services.audit import Action

    found, unknown = _recorded_actions()
    assert not unknown, f"list these actions' names in FORMATTED_ACTIONS: {unknown}"
    assert {"outbound.allow_added", "outbound.allow_removed", "user.second_factor_reset"} <= found
    assert found - set(Action.all()) == set(), "add these to app.services.audit.Action"
