"""Admins see which sandbox isolation and executor are active; others may not."""

from __future__ import annotations

import re

from app.effects.code_snippet import isolation_level


def test_admin_sees_active_isolation(client, auth, make_user):
    admin = make_user(roles=("admin",))
    auth.login(admin.email)
    html = client.get("/settings/system").get_data(as_text=True)
    shown = re.search(r'id="snippet-isolation">([^<]+)<', html).group(1)
    assert shown == isolation_level()
    assert "inline" in html


def test_officer_is_refused(client, auth, make_user):
    officer = make_user(roles=("credit_officer",))
    auth.login(officer.email)
    assert client.get("/settings/system").status_code == 403
