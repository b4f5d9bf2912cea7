"""A secret goes only into the request fields and toward the hosts its definition allows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Execution
from app.services import flows, outbound_allowlist, runners, secrets, stores
from app.services.principal import Principal
from tests.effects.stub_server import StubResponse, StubServer

KEY = "sk_live_SEALED_9931"
OTHER = "body-token-SEALED-5521"


def call_design(config: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    """start -> call (one api_call, no retry) -> done."""
    return {"name": "Call", "start_node": "start", "params": params or {}, "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "call"}]},
        {"name": "call", "type": "api_call", "config": {"method": "post", **config},
         "retry": {"maximumAttempts": 1}, "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end"}]}


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


@pytest.fixture
def admin(make_company, make_user) -> Principal:
    actor = Principal.for_user(make_user(make_company()))
    outbound_allowlist.add_entry(actor, "127.0.0.1")  # the stub: a loopback address, so it needs an entry
    return actor


def run(actor: Principal, design: dict[str, Any]):
    flow = flows.create_flow(actor, name=f"Call {id(design)}")
    flows.create_design(actor, flow_id=flow.id, document=design)
    return runners.create_runner(actor, flow_id=flow.id, data={"pan": "ABCDE1234F"}).runner


def failure(runner) -> str:
    rows = db.session.scalars(select(Execution).where(Execution.runner_id == runner.id)).all()
    return " ".join(str(e.error or "") for e in rows) + " " + (runner.status_reason or "")


def test_a_secret_in_an_allowed_field_toward_an_allowed_host_is_sent(stub, admin):
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    stub.enqueue("/score", StubResponse(200, {"score": 780}))
    runner = run(admin, call_design({"url": stub.url("/score"),
                                     "headers": {"X-Api-Key": "${SECRET.bureau.api_key}"},
                                     "body": {"pan": "${store.pan}"}}))
    assert runner.status == "succeeded", failure(runner)
    assert stub.requests_to("/score")[0].header("X-Api-Key") == KEY


@pytest.mark.parametrize(("config", "field"), [
    ({"url": "STUB/score", "query": {"key": "${SECRET.bureau.api_key}"}}, "query"),
    ({"url": "STUB/score/${SECRET.bureau.api_key}"}, "url"),
    ({"url": "STUB/score", "body": {"key": "${SECRET.bureau.api_key}"}}, "body"),
])
def test_a_secret_in_a_field_its_definition_does_not_allow_is_refused(stub, admin, config, field):
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    config = {k: v.replace("STUB", stub.url("")[:-1]) if isinstance(v, str) else v for k, v in config.items()}
    runner = run(admin, call_design(config))
    assert runner.status == "failed"
    message = failure(runner)
    assert f"Secret 'bureau' may not be used in the request's {field}" in message
    assert KEY not in message
    assert stub.requests == []  # the value never left
    refused = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "secret.use_refused"))
    assert refused.target_id == "bureau" and refused.details["field"] == field


def test_a_secret_sent_toward_a_host_it_does_not_allow_is_refused(stub, admin):
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["api.bureau.example"])
    runner = run(admin, call_design({"url": stub.url("/score"),
                                     "headers": {"X-Api-Key": "${SECRET.bureau.api_key}"}}))
    assert runner.status == "failed"
    assert "Secret 'bureau' may not be sent to this destination (127.0.0.1)" in failure(runner)
    assert stub.requests == []


def test_a_secret_read_through_params_is_checked_too(stub, admin):
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    design = call_design({"url": stub.url("/score"), "query": {"k": "${params.bureau.key}"}},
                         params={"bureau": {"key": "${SECRET.bureau.api_key}"}})
    runner = run(admin, design)
    assert "may not be used in the request's query" in failure(runner)
    assert stub.requests == []


def test_each_of_two_secrets_is_held_to_its_own_fields(stub, admin):
    secrets.set_secret(admin, "head", KEY, fields=["headers"], hosts=["127.0.0.1"])
    secrets.set_secret(admin, "payload", OTHER, fields=["body"], hosts=["127.0.0.1"])
    good = run(admin, call_design({"url": stub.url("/echo"), "headers": {"X-Key": "${SECRET.head}"},
                                   "body": {"token": "${SECRET.payload}"}}))
    assert good.status == "succeeded", failure(good)
    sent = stub.requests_to("/echo")[0]
    assert sent.header("X-Key") == KEY and sent.json() == {"token": OTHER}

    swapped = run(admin, call_design({"url": stub.url("/echo"), "headers": {"X-Key": "${SECRET.payload}"},
                                      "body": {"token": "${SECRET.head}"}}))
    assert swapped.status == "failed"
    assert "may not be used in the request's" in failure(swapped)
    assert len(stub.requests_to("/echo")) == 1


def test_a_call_carrying_a_host_bound_secret_follows_no_redirect(stub, admin):
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    elsewhere = stub.url("/elsewhere", host="localhost")
    runner = run(admin, call_design({"url": stub.url(f"/redirect?to={elsewhere}&status=307"),
                                     "headers": {"X-Api-Key": "${SECRET.bureau.api_key}"}}))
    assert runner.status == "failed"
    assert "redirect" in failure(runner)
    assert stub.requests_to("/elsewhere") == []


def test_the_secrets_page_sets_where_a_secret_may_go(client, auth, make_user):
    from tests.security.conftest import post_form

    admin = make_user()
    auth.login(admin.email)
    post_form(client, "/settings/secrets", "/settings/secrets", name="bureau", kind="text", value=KEY,
              allowed_fields=["headers", "auth"], allowed_hosts="api.bureau.example\n*.idfc.example")
    page = client.get("/settings/secrets").get_data(as_text=True)
    assert "<code>api.bureau.example</code>" in page and "<code>*.idfc.example</code>" in page
    assert KEY not in page
    policy = secrets.list_secret_policies(Principal.for_user(admin))[0]
    assert policy.fields == ("headers", "auth") and policy.allows_host("auth.idfc.example")
    assert not policy.allows_host("idfc.example.evil.com")
    # Only the hosts change; the value stays (an empty value field keeps it).
    post_form(client, "/settings/secrets", "/settings/secrets", name="bureau", kind="text", value="",
              allowed_hosts="api.bureau.example")
    assert secrets.SecretsView(admin.company_id)["bureau"] == KEY
    assert secrets.list_secret_policies(Principal.for_user(admin))[0].hosts == ("api.bureau.example",)
    bad = post_form(client, "/settings/secrets", "/settings/secrets", name="x", kind="text", value=KEY,
                    allowed_hosts="https://api.bureau.example/path").get_data(as_text=True)
    assert "is not a host name" in bad and KEY not in bad


def test_an_answer_echoing_what_the_secret_put_in_the_request_is_stored_masked(stub, admin):
    """A vendor echoing the request back: what came from the secret is masked before the answer
    reaches the store or the executions, which every staff reader sees; the rest is kept."""
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    echoed = {"headers_seen": {"X-Api-Key": KEY, "X-Sig": f"v1.{KEY}.sig", "Accept": "*/*"},
              "note": f"called with {KEY}", "score": 780}
    stub.enqueue("/echo", StubResponse(200, echoed, headers={"X-Echo-Key": KEY}))
    design = call_design({"url": stub.url("/echo"),
                          "headers": {"X-Api-Key": "${params.key}",
                                      "X-Sig": "v1.${SECRET.bureau.api_key}.sig"},
                          "response_map": {"echo": "body", "hdrs": "headers"}},
                         params={"key": "${SECRET.bureau.api_key}"})
    runner = run(admin, design)
    assert runner.status == "succeeded", failure(runner)
    assert stub.requests_to("/echo")[0].header("X-Api-Key") == KEY  # it was really sent
    store = stores.runner_store(admin, runner.id).data
    # A header built around the secret is masked whole where it comes back as it was sent.
    assert store["echo"] == {"headers_seen": {"X-Api-Key": "********", "X-Sig": "********",
                                              "Accept": "*/*"},
                             "note": "called with ********", "score": 780}
    assert store["hdrs"]["X-Echo-Key"] == "********"
    outputs = " ".join(str(e.output) for e in db.session.scalars(
        select(Execution).where(Execution.runner_id == runner.id)))
    assert "SEALED" not in outputs + str(store) and "called with ********" in outputs
