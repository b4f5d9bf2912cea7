"""A page with several forms holds each id once: every form's CSRF token had id="csrf_token"."""

from __future__ import annotations

import re
from collections import Counter

from tests.conftest import csrf_from
from tests.settings.conftest import signed_in
from tests.settings.test_second_factor_reset import _enrol


def repeated_ids(html: str) -> dict[str, int]:
    counts = Counter(re.findall(r'\sid="([^"]+)"', html))
    return {name: n for name, n in counts.items() if n > 1}


def test_a_team_members_page_with_four_forms_repeats_no_id(app, lender, make_user):
    company, admin = lender
    officer = make_user(company, roles=("credit_officer",), name="Oli Officer", email="oli@acme.example.com")
    _enrol(officer)
    client = signed_in(app, admin.email)
    page = client.get(f"/settings/team/{officer.id}").get_data(as_text=True)
    assert page.count("<form") >= 4  # roles, reset password, reset second factor, deactivate
    assert repeated_ids(page) == {}
    assert csrf_from(page)  # the token is still there, by name
