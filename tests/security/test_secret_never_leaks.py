"""A planted secret used in headers by a failing call shows in no table, log, answer, page or export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEntry, Base
from app.services import clock, customers, flows, outbound_allowlist, runners, secrets, work
from app.services.principal import Principal
from tests.conftest import AuthActions
from tests.effects.stub_server import StubResponse, StubServer
from tests.security.world import routes, url_for_rule

KEY = "sk_live_NEVER_LEAK_7731"
KEY_PART = "NEVER_LEAK"  # also catches a value cut short, re-encoded or split


def leaky_design(url: str) -> dict:
    """form -> api_call (secret in a header via params, 2 attempts, fallback) -> review form."""
    return {
        "name": "Leaky", "start_node": "start",
        "params": {"bureau": {"url": url, "api_key": "${SECRET.bureau.api_key}"}},
        "nodes": [
            {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "application"}]},
            {"name": "application", "type": "form", "stage": "application",
             "config": {"schema": {"type": "object", "properties": {"pan": {"type": "string"}}}},
             "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["submit"]}],
             "edges": [{"action": "submit", "type": "goto", "target_node": "bureau",
                        "return": {"transformer": "jmes", "data": {"application": "data"}}}]},
            {"name": "bureau", "type": "api_call", "stage": "underwriting",
             "config": {"method": "post", "url": "${params.bureau.url}",
                        "headers": {"X-Api-Key": "${params.bureau.api_key}",
                                    "Authorization": "Bearer ${SECRET.bureau.api_key}"},
                        "body": {"pan": "${store.application.pan}"}},
             "retry": {"maximumAttempts": 2, "initialInterval": 1},
             "edges": [{"type": "goto", "target_node": "review"},
                       {"type": "fallback", "target_node": "review",
                        "return": {"transformer": "jmes", "data": {"bureau_error": "data.error"}}}]},
            {"name": "review", "type": "form", "stage": "review", "config": {"schema": {"type": "object"}},
             "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["submit"]}],
             "edges": [{"action": "submit", "type": "goto", "target_node": "done"}]},
            {"name": "done", "type": "end", "stage": "closed"},
        ],
    }


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


def test_the_secret_never_leaves_the_call(app, client, stub, make_company, make_user, make_token, caplog):
    company = make_company()
    user = make_user(company)
    admin = Principal.for_user(user)
    outbound_allowlist.add_entry(admin, "127.0.0.1")
    secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
    flow = flows.create_flow(admin, name="Leaky loans")
    design = flows.create_design(admin, flow_id=flow.id, document=leaky_design(stub.url("/score")))
    # The upstream echoes the key back in its error, as careless vendors do.
    stub.enqueue("/score", *[StubResponse(500, {"error": f"bad key {KEY}", "key": KEY})] * 2)
    with caplog.at_level("DEBUG"):
        customer = customers.find_or_create_customer(admin, email="asha@example.com")  # flow-info too
        runner = runners.create_runner(admin, flow_id=flow.id, customer_id=customer.id).runner
        runners.execute_runner(admin, runner.id, action="submit", data={"pan": "ABCDE1234F"})
        with clock.travel(timedelta(minutes=5)):
            work.fire_due()
        db.session.expire_all()
        runner = runners.get_runner(admin, runner.id)
        assert runner.current_nodes == ["review"], runner.status_reason
        sent = stub.requests_to("/score")
        assert len(sent) == 2 and sent[0].header("X-Api-Key") == KEY  # it was really used

        outputs = _every_answer(app, client, user, make_token(company)[1], runner, flow.id, design.id)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "secret.read"))
    for table in Base.metadata.sorted_tables:
        rows = db.session.execute(text(f"SELECT * FROM {table.name}")).all()  # noqa: S608  our names
        outputs[f"table {table.name}"] = repr(rows)
    outputs["logs"] = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    leaks = sorted(where for where, body in outputs.items() if KEY_PART in body)
    assert not leaks, f"the secret shows in: {leaks}"
    assert len(outputs) > 30  # the search really covered the app, signed in:
    assert runner.ref_id in outputs[f"GET /v1/rego/runners/{runner.id}/"]
    assert "********" in outputs[f"GET /v1/rego/runners/{runner.id}/"]  # params shown, masked
    assert "Leaky loans" in outputs[f"GET /v1/rego/runners/{runner.id}/flow-info/"]
    # The pages that start runners and submit at a waiting node were searched too, with content.
    assert "Leaky loans</option>" in outputs["GET /runners/new"]
    assert "Waiting for" in outputs[f"GET /runners/{runner.id}"]


def _every_answer(app, client, user, token, runner, flow_id, design_id) -> dict[str, str]:
    """Every GET page and API answer reachable with this runner's ids, plus the POSTs that render."""
    AuthActions(client).login(user.email)
    api = {"Authorization": f"Bearer {token}"}
    params = {"runner_id": runner.id, "flow_id": flow_id, "design_id": design_id, "store_id": runner.store_id,
              "fmt": "csv", "resource_type": "runner", "resource_id": runner.id, "user_id": user.id}
    outputs: dict[str, str] = {}
    for rule, method in routes(app):
        if method != "GET" or not set(rule.arguments) <= set(params):
            continue
        url = url_for_rule(rule, params)
        response = client.get(url, headers=api if url.startswith(("/v1/", "/flow/")) else {})
        outputs[f"GET {url}"] = response.get_data(as_text=True) + repr(dict(response.headers))
    extra = {
        "warehouse json": client.get(f"/v1/rego/warehouse/?flow_id={flow_id}", headers=api),
        "warehouse csv": client.get(f"/v1/rego/warehouse/?flow_id={flow_id}&format=csv", headers=api),
        "audit json": client.get("/settings/audit/export.json"),
        "error page": client.get("/no/such/page"),
        "api error": client.get("/v1/rego/runners/00000000-0000-0000-0000-000000000000/", headers=api),
    }
    for template in ("${params.bureau.api_key}", "${SECRET.bureau.api_key}", "${params}", "${params.bureau}"):
        extra[f"parse-template {template}"] = client.post(
            f"/v1/rego/runners/{runner.id}/parse-template/", json={"template": template}, headers=api)
    for name, response in extra.items():
        outputs[name] = response.get_data(as_text=True)
    return outputs
