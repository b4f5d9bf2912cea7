"""Settings → Team: admins list, add and manage their company's staff users, within the service's rules."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import AuditEntry, Base, User
from app.services import accounts, mfa, team
from app.services.errors import Conflict, NotFound, PermissionDenied
from app.services.principal import Principal
from tests.conftest import AuthActions
from tests.security.conftest import code_at, post_form
from tests.security.test_pages_keep_csp import audit_page
from tests.settings.conftest import SHOWN, change_password, signed_in
from tests.settings.conftest import fresh_user as _user
from tests.settings.conftest import invite as _invite


def test_settings_lists_team_and_team_lists_only_this_company(client, auth, lender, make_company, make_user):
    company, admin = lender
    viewer = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    secret = mfa.start_enrolment(viewer).secret
    mfa.confirm_enrolment(viewer, code_at(secret, -1))
    make_user(make_company(), name="Olga Otherco", email="olga@other.example.com")
    auth.login(admin.email)

    assert 'href="/settings/team"' in client.get("/settings/").get_data(as_text=True)
    page = client.get("/settings/team").get_data(as_text=True)
    row = re.compile(r"<tr>\s*<td><a[^>]*>([^<]+)</a>.*?</tr>", re.S)
    rows = {m.group(1): m.group(0) for m in row.finditer(page)}
    assert set(rows) == {"Ada Admin", "Vic Viewer"}
    assert "olga@other.example.com" not in page and "Olga" not in page
    assert "vic@acme.example.com" in rows["Vic Viewer"] and "<td>Viewer</td>" in rows["Vic Viewer"]
    assert "<td>on</td>" in rows["Vic Viewer"] and "<td>never</td>" in rows["Vic Viewer"]  # 2FA, no sign-in
    assert "<td>off</td>" in rows["Ada Admin"] and " UTC</td>" in rows["Ada Admin"]
    assert "<td>active</td>" in rows["Ada Admin"]


def _team_page_statements(client) -> tuple[int, dict[str, str]]:
    """The SQL statements one Team page load runs, and its rows by member name."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/settings/team")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    rows = re.compile(r"<tr>\s*<td><a[^>]*>([^<]+)</a>.*?</tr>", re.S)
    return len(statements), {m.group(1): m.group(0) for m in rows.finditer(response.get_data(as_text=True))}


def _enrol(user: User) -> None:
    mfa.confirm_enrolment(user, code_at(mfa.start_enrolment(user).secret, -1))


def test_the_team_page_reads_every_second_factor_at_once(client, auth, lender, make_user):
    company, admin = lender
    _enrol(make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com"))
    auth.login(admin.email)
    client.get("/settings/team")  # the first load warms per-process caches
    before, rows = _team_page_statements(client)
    assert "<td>on</td>" in rows["Vic Viewer"] and "<td>off</td>" in rows["Ada Admin"]

    extras = [make_user(company, roles=("viewer",), name=f"Extra {n:02d}", email=f"extra{n}@acme.example.com")
              for n in range(10)]
    for extra in extras[::3]:
        _enrol(extra)
    after, rows = _team_page_statements(client)
    assert after == before, f"{after - before} more statements for 10 more users"
    assert len(rows) == 12
    assert {name for name, row in rows.items() if "<td>on</td>" in row} == {
        "Vic Viewer", "Extra 00", "Extra 03", "Extra 06", "Extra 09"}


BADGE = "temporary password</span>"


def _status(client, user_id: str) -> str:
    """The Status entry of a member page."""
    page = client.get(f"/settings/team/{user_id}").get_data(as_text=True)
    return re.search(r'<dd id="member-status">(.*?)</dd>', page, re.S).group(1)


def test_who_is_on_a_temporary_password_shows_as_a_badge(app, client, auth, lender, make_user):
    company, admin = lender
    vic = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    auth.login(admin.email)
    nina_password = SHOWN.search(_invite(client, name="Nina New", email="nina@acme.example.com",
                                         roles=["viewer"]).get_data(as_text=True)).group(1)
    nina = db.session.scalar(select(User).where(User.email == "nina@acme.example.com"))

    _, rows = _team_page_statements(client)
    assert BADGE in rows["Nina New"] and BADGE not in rows["Vic Viewer"] and BADGE not in rows["Ada Admin"]
    assert BADGE in _status(client, nina.id) and BADGE not in _status(client, vic.id)
    assert BADGE not in _status(client, admin.id)

    post_form(client, f"/settings/team/{vic.id}", f"/settings/team/{vic.id}/reset-password")
    assert BADGE in _status(client, vic.id)  # a reset hands out a temporary password too

    change_password(signed_in(app, nina.email, nina_password, lands_on="/account/password"),
                    nina_password, "nina's very own passphrase")
    assert BADGE not in _status(client, nina.id)
    assert BADGE not in _team_page_statements(client)[1]["Nina New"]


def test_added_user_gets_a_password_shown_once_that_signs_in(app, client, auth, lender, caplog):
    company, admin = lender
    auth.login(admin.email)
    with caplog.at_level("DEBUG"):
        response = _invite(client, name="Nina New", email=" Nina@Acme.example.com ",
                           roles=["credit_officer", "viewer"])
        password = SHOWN.search(response.get_data(as_text=True)).group(1)
        again = client.get("/settings/team").get_data(as_text=True)
        audit_html = client.get("/settings/audit").get_data(as_text=True)
        export = client.get("/settings/audit/export.json").get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"([a-z2-9]{5}-){3}[a-z2-9]{5}", password)
    assert audit_page(response.get_data(as_text=True)).problems == []
    assert "Nina New" in again and password not in again and "temporary-password" not in again

    nina = db.session.scalar(select(User).where(User.email == "nina@acme.example.com"))
    assert nina.company_id == company.id and nina.roles == ["credit_officer", "viewer"]
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created",
                                                         AuditEntry.target_id == nina.id))
    assert created.actor_name == "Ada Admin"
    tables = "".join(repr(db.session.execute(text(f"SELECT * FROM {t.name}")).all())  # noqa: S608  our names
                     for t in Base.metadata.sorted_tables)
    logs = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    for where in (audit_html, export, tables, logs):
        assert password not in where and password.replace("-", "") not in where
    nina = signed_in(app, "nina@acme.example.com", password, lands_on="/account/password")
    assert nina.get("/").headers["Location"] == "/account/password"  # see test_temporary_password.py
    assert change_password(nina, password, "nina's own long password").headers["Location"] == "/"
    assert "Nina New ·" in nina.get("/").get_data(as_text=True)


def test_duplicate_email_is_a_field_error_and_keeps_the_input(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    response = _invite(client, name="Ada Again", email="ADA@acme.example.com", roles=["viewer"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "temporary-password" not in page
    assert re.search(r'id="email-errors"><li>A user with this email address already exists', page)
    assert 'value="Ada Again"' in page and 'value="ADA@acme.example.com"' in page
    assert db.session.scalar(select(User).where(User.name == "Ada Again")) is None


def test_missing_roles_and_name_are_field_errors(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    response = _invite(client, name="", email="someone@acme.example.com")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose at least one role." in page and 'id="name-errors"' in page
    assert 'value="someone@acme.example.com"' in page


def _ticked_roles(page: str) -> set[str]:
    """The role boxes of the add-user form that are ticked."""
    form = page[page.index("Add a user"):page.index("</form>", page.index("Add a user"))]
    return {m.group(2) for m in re.finditer(r'<input (checked )?id="roles-\d+"[^>]* value="([a-z_]+)"', form)
            if m.group(1)}


def test_the_add_user_form_ticks_no_role_and_gives_only_the_roles_chosen(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    page = client.get("/settings/team").get_data(as_text=True)
    assert 'type="checkbox" value="viewer"' in page and _ticked_roles(page) == set()

    nothing = _invite(client, name="Nina New", email="nina@acme.example.com")
    html = nothing.get_data(as_text=True)
    assert nothing.status_code == 422 and "temporary-password" not in html
    assert re.search(r'id="roles-errors"><li>Choose at least one role.', html)
    assert 'value="Nina New"' in html and _ticked_roles(html) == set()
    assert db.session.scalar(select(User).where(User.email == "nina@acme.example.com")) is None

    response = _invite(client, name="Nina New", email="nina@acme.example.com", roles=["credit_officer"])
    assert response.status_code == 200 and SHOWN.search(response.get_data(as_text=True))
    assert _ticked_roles(response.get_data(as_text=True)) == set()  # the next add starts blank too
    nina = db.session.scalar(select(User).where(User.email == "nina@acme.example.com"))
    assert nina.roles == ["credit_officer"]  # not credit_officer and viewer


def test_roles_change_and_are_audited(client, auth, lender, make_user):
    company, admin = lender
    viewer = make_user(company, roles=("viewer",), name="Vic Viewer")
    auth.login(admin.email)
    url = f"/settings/team/{viewer.id}"
    response = post_form(client, url, url, roles=["credit_officer", "admin"])
    assert response.headers["Location"] == url
    assert "Roles of Vic Viewer saved." in client.get(url).get_data(as_text=True)
    assert _user(viewer.id).roles == ["admin", "credit_officer"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.roles_changed"))
    assert entry.target_id == viewer.id and entry.actor_name == "Ada Admin"
    assert entry.details == {"before": ["viewer"], "after": ["admin", "credit_officer"]}

    page = post_form(client, url, url).get_data(as_text=True)  # nothing ticked
    assert "Choose at least one role." in page and _user(viewer.id).roles == ["admin", "credit_officer"]


def test_deactivation_signs_out_and_blocks_sign_in_until_reactivated(app, client, auth, lender, make_user):
    company, admin = lender
    officer = make_user(company, roles=("credit_officer",), name="Oli Officer", email="oli@acme.example.com")
    theirs = signed_in(app, officer.email)
    auth.login(admin.email)
    url = f"/settings/team/{officer.id}"

    post_form(client, url, f"{url}/deactivate")
    page = client.get(url).get_data(as_text=True)
    assert "Oli Officer can no longer sign in" in page and "deactivated: cannot sign in" in page
    assert theirs.get("/").headers["Location"].startswith("/login")
    refused = AuthActions(app.test_client()).login(officer.email)
    assert "Invalid email or password" in refused.get_data(as_text=True)
    assert "deactivated" in client.get("/settings/team").get_data(as_text=True)

    post_form(client, url, f"{url}/reactivate")
    assert "Oli Officer can sign in again." in client.get(url).get_data(as_text=True)
    assert theirs.get("/").headers["Location"].startswith("/login")  # old sessions stay ended
    assert signed_in(app, officer.email).get("/").status_code == 200
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == officer.id,
                                                                 AuditEntry.actor_name == "Ada Admin"))
    assert {"user.deactivated", "user.reactivated"} <= set(actions)


def test_password_reset_shows_a_new_password_once_and_ends_sessions(app, client, auth, lender, make_user):
    company, admin = lender
    viewer = make_user(company, roles=("viewer",), name="Vic Viewer", email="vic@acme.example.com")
    theirs = signed_in(app, viewer.email)
    auth.login(admin.email)
    url = f"/settings/team/{viewer.id}"

    response = post_form(client, url, f"{url}/reset-password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = SHOWN.search(response.get_data(as_text=True)).group(1)
    assert password not in client.get(url).get_data(as_text=True)
    assert theirs.get("/").headers["Location"].startswith("/login")
    assert "Invalid email or password" in AuthActions(theirs).login(viewer.email).get_data(as_text=True)
    held = signed_in(app, viewer.email, password, lands_on="/account/password")
    assert held.get("/").headers["Location"] == "/account/password"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert entry.target_id == viewer.id and password not in repr(entry.details)


def test_an_admin_cannot_lock_themself_out(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    url = f"/settings/team/{admin.id}"
    post_form(client, url, f"{url}/deactivate")
    assert "You cannot deactivate yourself" in client.get(url).get_data(as_text=True)
    page = post_form(client, url, url, roles=["viewer"]).get_data(as_text=True)
    assert "You cannot remove your own admin role" in page
    assert re.search(r'<input checked[^>]*value="viewer"', page)  # what they ticked stays ticked
    post_form(client, url, f"{url}/reset-password")
    assert "Change your own password under Security." in client.get(url).get_data(as_text=True)
    assert _user(admin.id).is_active and _user(admin.id).roles == ["admin"]
    assert client.get("/settings/team").status_code == 200  # still signed in


def test_the_company_keeps_an_active_admin(lender, make_user, make_token):
    company, admin = lender
    robot = Principal.for_token(make_token(company, roles=("admin",))[0])  # not a user: no self rule
    with pytest.raises(Conflict, match="Ada Admin is the last active admin"):
        team.deactivate_user(robot, admin.id)
    with pytest.raises(Conflict, match="last active admin"):
        team.update_user_roles(robot, admin.id, ["viewer"])
    second = make_user(company, roles=("admin",), name="Bea Admin")
    team.deactivate_user(robot, second.id)
    with pytest.raises(Conflict, match="last active admin"):  # a deactivated admin does not count
        team.update_user_roles(robot, admin.id, ["viewer"])
    team.reactivate_user(robot, second.id)
    assert team.update_user_roles(robot, admin.id, ["viewer"]).roles == ["viewer"]
    assert not _user(admin.id).has_role("admin")


def test_another_companys_user_is_not_found(client, auth, lender, make_company, make_user):
    _, admin = lender
    stranger = make_user(make_company(), roles=("viewer",), name="Sam Stranger")
    auth.login(admin.email)
    url = f"/settings/team/{stranger.id}"
    assert client.get(url).status_code == 404
    for action in ("", "/deactivate", "/reactivate", "/reset-password"):
        assert post_form(client, "/settings/team", url + action, roles=["admin"]).status_code == 404
    with pytest.raises(NotFound):
        team.get_member(Principal.for_user(admin), stranger.id)
    assert _user(stranger.id).is_active and _user(stranger.id).roles == ["viewer"]


@pytest.mark.parametrize("role", ["credit_officer", "viewer"])
def test_officers_and_viewers_are_refused(client, auth, lender, make_user, role):
    company, admin = lender
    user = make_user(company, roles=(role,))
    auth.login(user.email)
    assert client.get("/settings/team").status_code == 403
    assert client.get(f"/settings/team/{admin.id}").status_code == 403
    assert post_form(client, "/", f"/settings/team/{admin.id}/deactivate").status_code == 403
    assert _user(admin.id).is_active
    with pytest.raises(PermissionDenied):
        team.invite_user(Principal.for_user(user), name="X", email="x@acme.example.com", roles=["admin"])


def test_temporary_passwords_are_strong_and_differ():
    passwords = {team.temporary_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        accounts.validate_password(password)  # long enough for the house rule
        assert len(password.replace("-", "")) == 20
