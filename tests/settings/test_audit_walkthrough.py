"""Settings → Audit log as an admin walking it found it: a refused filter lists and exports nothing
(it showed the whole log under "nothing could match"), the paging and export links keep Until as
typed (they moved it a day later), and list details read as words, not Python lists."""

from __future__ import annotations

import html
import re

from app.extensions import db
from app.services.audit import record_audit


def test_a_refused_filter_shows_and_exports_nothing(client, auth, lender):
    company, admin = lender
    record_audit(None, "test.walk", "thing", "t1", company_id=company.id)
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/settings/audit?since=2026-11-20&until=2026-11-10").get_data(as_text=True)
    assert "Until is before From" in page
    assert 'id="audit-filter-refused"' in page and "correct it to see and export entries" in page
    assert "<code>test.walk</code>" not in page and "audit/export" not in page
    assert client.get("/settings/audit/export.csv?since=2026-11-20&until=2026-11-10").status_code == 422
    assert client.get("/settings/audit/export.csv?since=2026-13-01").status_code == 422
    # A good filter still lists and offers the exports.
    good = client.get("/settings/audit?action=test.walk").get_data(as_text=True)
    assert "<code>test.walk</code>" in good and "audit/export.csv?action=test.walk" in good


def test_links_keep_until_as_typed(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    url = "/settings/audit?since=2026-11-01&until=2026-11-24"
    page = html.unescape(client.get(url).get_data(as_text=True))
    links = re.findall(r'href="(/settings/audit[^"]*)"', page)
    exports = [link for link in links if "export" in link]
    assert exports and all("until=2026-11-24" in link and "2026-11-25" not in link for link in exports)


def test_list_details_read_as_words(client, auth, lender):
    company, admin = lender
    record_audit(None, "test.lists", "secret", "lms_key", {"fields": ["headers", "body"], "hosts": []},
                 company_id=company.id)
    db.session.commit()
    auth.login(admin.email)
    page = html.unescape(client.get("/settings/audit?action=test.lists").get_data(as_text=True))
    assert "fields: headers, body; hosts: none" in page
    assert "['headers'" not in page


def test_a_secret_update_says_whether_the_value_was_replaced_and_never_shows_it(client, auth, lender):
    from app.services import secrets
    from app.services.audit import REDACTED
    from app.services.principal import Principal
    from tests.security.conftest import post_form

    company, admin = lender
    auth.login(admin.email)
    for value in ("first-bank-value-1", "second-bank-value-2"):  # created, then its value replaced
        saved = post_form(client, "/settings/secrets", "/settings/secrets", name="bank", kind="text",
                          value=value, allowed_fields=["headers"], allowed_hosts="api.bank.example")
        assert saved.headers["Location"] == "/settings/secrets"
    secrets.set_secret(Principal.for_user(admin), "bank", hosts=["api.bank.example", "sandbox.bank.example"])

    page = html.unescape(client.get("/settings/audit?target_type=secret").get_data(as_text=True))
    rows = re.findall(r"<code>(secret\.\w+)</code>.*?<td>([^<]*)</td>", page, re.S)
    assert rows == [  # newest first
        ("secret.updated", "fields: headers; hosts: api.bank.example, sandbox.bank.example; name: bank; "
                           "replaced: False"),
        ("secret.updated", "fields: headers; hosts: api.bank.example; name: bank; replaced: True"),
        ("secret.created", "fields: headers; hosts: api.bank.example; name: bank")]
    export = client.get("/settings/audit/export.json").get_data(as_text=True)
    for where in (page, export):
        assert REDACTED not in where and "bank-value" not in where
    # The scrubber stays strict: a key naming a value is redacted whatever its type.
    entry = record_audit(None, "test.strict", "thing", "1", {"value_replaced": True, "pin_code": 1234},
                         company_id=company.id)
    assert entry.details == {"value_replaced": REDACTED, "pin_code": REDACTED}


def test_the_action_filter_offers_every_action_before_one_is_recorded(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    page = client.get("/settings/audit").get_data(as_text=True)
    opens = page.index('<select id="action"')
    select = page[opens:page.index("</select>", opens)]
    offered = set(re.findall(r'<option[^>]*value="([^"]+)"', select))
    assert {"outbound.allow_added", "outbound.allow_removed", "user.second_factor_reset", "runner.cancelled",
            "approval.rejected", "secret.use_refused", "store.updated"} <= offered
    assert not {a for a in offered if a.startswith("outbound.")} & {
        e for e in ("outbound.allow_added",) if f"<code>{e}</code>" in page}  # none recorded yet
