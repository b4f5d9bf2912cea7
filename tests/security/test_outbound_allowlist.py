"""Each company's outbound allowlist opens private destinations to its own calls and senders only."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.services import flows, outbound_allowlist, runners, senders, work
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.principal import Principal
from tests.effects.stub_server import StubResponse, StubServer
from tests.security.conftest import post_form
from tests.security.test_secret_use import call_design

_CALLS = itertools.count(1)


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


def _call(actor: Principal, url: str):
    flow = flows.create_flow(actor, name=f"Call {url} #{next(_CALLS)}")  # flow names are unique
    flows.create_design(actor, flow_id=flow.id, document=call_design({"url": url}))
    return runners.create_runner(actor, flow_id=flow.id).runner


def test_a_private_destination_needs_an_entry_of_the_calling_company(stub, make_company, make_user):
    alpha = Principal.for_user(make_user(make_company()))
    beta = Principal.for_user(make_user(make_company()))
    stub.enqueue("/ping", StubResponse(200, {"ok": True}))
    assert _call(alpha, stub.url("/ping")).status == "failed"  # loopback: refused by default
    assert stub.requests == []

    outbound_allowlist.add_entry(alpha, "127.0.0.0/8", note="the stub")
    assert _call(alpha, stub.url("/ping")).status == "succeeded"
    assert _call(beta, stub.url("/ping")).status == "failed"  # alpha's entry is not beta's
    assert len(stub.requests) == 1


def test_the_policy_merges_the_global_settings_with_the_company_entries(app, make_company, make_user):
    app.config["FLOWDESK_OUTBOUND_ALLOW_HOSTS"] = "vault.internal"
    app.config["FLOWDESK_OUTBOUND_ALLOW_NETWORKS"] = "10.1.0.0/16"
    actor = Principal.for_user(make_user(make_company()))
    outbound_allowlist.add_entry(actor, "Core.Bank.Internal.")
    outbound_allowlist.add_entry(actor, "192.168.7.9")
    policy = work.outbound_policy(actor.company_id)
    assert policy.allow_hosts == {"vault.internal", "core.bank.internal"}
    assert set(policy.allow_networks) == {ipaddress.ip_network("10.1.0.0/16"),
                                          ipaddress.ip_network("192.168.7.9/32")}
    assert work.outbound_policy().allow_hosts == {"vault.internal"}  # no company: global only


@pytest.mark.parametrize("raw", ["http://core.internal", "core.internal:8443", "0.0.0.0/0", "::/0", "a b",
                                 ""])
def test_entries_that_are_not_a_host_or_a_bounded_network_are_refused(make_company, make_user, raw):
    actor = Principal.for_user(make_user(make_company()))
    with pytest.raises(ValidationFailed):
        outbound_allowlist.add_entry(actor, raw)


def test_only_admins_manage_it_and_changes_are_audited(make_company, make_user):
    company = make_company()
    officer = Principal.for_user(make_user(company, roles=("credit_officer",)))
    with pytest.raises(PermissionDenied):
        outbound_allowlist.add_entry(officer, "core.internal")
    admin = Principal.for_user(make_user(company))
    entry = outbound_allowlist.add_entry(admin, "core.internal")
    outbound_allowlist.remove_entry(admin, entry.id)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "outbound_allow")
                                 .order_by(AuditEntry.created_at)).all()
    assert actions == ["outbound.allow_added", "outbound.allow_removed"]


def test_the_http_code_sender_uses_the_company_allowlist(stub, make_company, make_user):
    alpha = Principal.for_user(make_user(make_company()))
    beta = make_company()
    outbound_allowlist.add_entry(alpha, "127.0.0.1")
    sender = senders.HttpSender(url=stub.url("/sms"), body_template='{"to": "$to"}')
    message = senders.OutgoingMessage(alpha.company_id, "sms", "+919800000001", "", "Your code", "123456")
    sender.send(message)
    assert len(stub.requests_to("/sms")) == 1
    with pytest.raises(senders.SendFailed):
        sender.send(senders.OutgoingMessage(beta.id, "sms", "+919800000001", "", "Your code", "123456"))
    assert len(stub.requests_to("/sms")) == 1


def test_the_settings_page_adds_and_removes_entries(client, auth, make_user):
    admin = make_user()
    auth.login(admin.email)
    response = post_form(client, "/settings/outbound", "/settings/outbound", value="10.20.0.0/16",
                         note="core banking VPN")
    assert response.status_code == 302
    page = client.get("/settings/outbound").get_data(as_text=True)
    assert "<code>10.20.0.0/16</code>" in page and "core banking VPN" in page
    bad = post_form(client, "/settings/outbound", "/settings/outbound", value="http://x.internal/")
    assert "no scheme, port or path" in bad.get_data(as_text=True)
    [entry] = outbound_allowlist.list_entries(Principal.for_user(admin))
    post_form(client, "/settings/outbound", f"/settings/outbound/{entry.id}/remove")
    assert "<code>10.20.0.0/16</code>" not in client.get("/settings/outbound").get_data(as_text=True)


def test_the_settings_page_is_for_admins(client, auth, make_user):
    auth.login(make_user(roles=("credit_officer",)).email)
    assert client.get("/settings/outbound").status_code == 403


def test_an_internationalised_host_is_kept_in_the_form_requests_sends(app, client, auth, make_user):
    """requests writes "bücher.internal" as "xn--bcher-kva.internal" before the guard compares it
    with the allowlist, so an entry kept as typed never matched its own host."""
    admin = make_user()
    actor = Principal.for_user(admin)
    entry = outbound_allowlist.add_entry(actor, "Bücher.Internal.")
    assert (entry.kind, entry.value) == ("host", "xn--bcher-kva.internal")
    app.config["FLOWDESK_OUTBOUND_ALLOW_HOSTS"] = "zähler.internal"
    assert work.outbound_policy(actor.company_id).allow_hosts == {"xn--bcher-kva.internal",
                                                                  "xn--zhler-gra.internal"}
    with pytest.raises(ValidationFailed):
        outbound_allowlist.add_entry(actor, "bücher.internal/path")
    auth.login(admin.email)
    page = client.get("/settings/outbound").get_data(as_text=True)
    assert "<code>xn--bcher-kva.internal</code> (bücher.internal)" in page
