"""Runner endpoints that operate on a runner: its store, design, templates, lifecycle, callbacks."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, CallbackToken
from app.services import callbacks, secrets
from app.services.principal import Principal
from tests.api.conftest import assert_problem, error_paths
from tests.api.runner_fixtures import KYC_SCHEMA, SEED000_EXECUTE, seed000_design


# --- store, design, template ----------------------------------------------------------------------
def test_update_store_merges_and_is_recorded(client, admin, viewer, start):
    runner = start(data={"applicant": {"name": "Asha", "city": "Pune"}})
    url = f"/v1/rego/runners/{runner['id']}/store/"
    response = client.put(url, headers=admin, json={"data": {"applicant": {"city": "Delhi"}, "score": 7}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == {"applicant": {"name": "Asha", "city": "Delhi"}, "score": 7}
    assert client.get(url, headers=admin).get_json()["version"] == 2
    kinds = [a["kind"] for a in client.get(f"/v1/rego/runners/{runner['id']}/activity/",
                                           headers=admin).get_json()["items"]]
    assert "store.updated" in kinds
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "store.updated"))
    assert audit.details == {"runner_id": runner["id"], "fields": ["applicant", "score"]}
    assert_problem(client.put(url, headers=viewer, json={"data": {"score": 1}}), 403)
    assert_problem(client.put(url, headers=admin, json={"data": [1]}), 422)
    assert client.get(url, headers=admin).get_json()["data"]["score"] == 7


def test_update_store_then_the_next_step_sees_it(client, admin, start):
    runner = start()
    client.put(f"/v1/rego/runners/{runner['id']}/store/", headers=admin, json={"data": {"note": "kept"}})
    client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin, json=SEED000_EXECUTE)
    data = client.get(f"/v1/rego/runners/{runner['id']}/store/", headers=admin).get_json()["data"]
    assert data["note"] == "kept"


def test_update_runner_design_moves_to_a_version_with_its_nodes(client, admin, make_design, flow, start):
    runner = start()
    same_nodes = make_design(seed000_design(name="v2"), flow=flow)
    url = f"/v1/rego/runners/{runner['id']}/design/"
    moved = client.put(url, headers=admin, json={"design_id": same_nodes["id"]})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["design_id"] == same_nodes["id"]
    without_welcome = seed000_design()
    without_welcome["nodes"] = [n for n in without_welcome["nodes"] if n["name"] != "welcome"]
    without_welcome["nodes"][0]["edges"] = [{"type": "goto", "target_node": "kyc"}]
    lacking = make_design(without_welcome, flow=flow)
    assert_problem(client.put(url, headers=admin, json={"design_id": lacking["id"]}), 409)
    foreign = make_design(seed000_design())  # another flow's version
    assert_problem(client.put(url, headers=admin, json={"design_id": foreign["id"]}), 422)
    broken = seed000_design(name="broken")
    broken["nodes"][0]["edges"] = [{"type": "goto", "target_node": "nowhere"}]
    invalid = make_design(broken, flow=flow)  # saved as a draft that does not validate
    assert invalid["is_valid"] is False
    refused = assert_problem(client.put(url, headers=admin, json={"design_id": invalid["id"]}), 409)
    assert "does not validate" in refused["detail"]
    after = client.get(f"/v1/rego/runners/{runner['id']}/", headers=admin).get_json()
    assert after["design_id"] == same_nodes["id"]


def test_parse_template_renders_the_runner_context_with_secrets_masked(client, admin, make_flow,
                                                                        make_design, company):
    flow = make_flow("Params")
    make_design(seed000_design(params={"vendor": "${SECRET.storage.vendor}", "region": "ap-south-1",
                                       "cache_key": "${RUNNER_ID}"}), flow=flow)
    secrets.set_secret(Principal.system(company.id), "storage", {"vendor": "s3-TOPSECRET"})
    runner = client.post("/v1/rego/runners/", headers=admin,
                         json={"flow_id": flow["id"], "data": {"name": "Asha"}}).get_json()
    url = f"/v1/rego/runners/{runner['id']}/parse-template/"
    response = client.post(url, headers=admin, json={"template": {
        "hello": "Hi ${store.name} (${data.n})", "vendor": "${params.vendor}", "region": "${params.region}",
        "direct": "${SECRET.storage.vendor}", "runner": "${RUNNER_ID}"}, "data": {"n": 2}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"] == {
        "hello": "Hi Asha (2)", "vendor": "********", "region": "ap-south-1", "direct": "********",
        "runner": runner["id"]}
    assert "TOPSECRET" not in response.get_data(as_text=True)
    assert client.post(url, headers=admin, json={"template": "${1 + 2}"}).get_json() == {"result": 3}
    bad = assert_problem(client.post(url, headers=admin, json={"template": {"a": ["${import os}"]}}), 422)
    assert all(p.startswith("template") for p in error_paths(bad))


# --- lifecycle ------------------------------------------------------------------------------------
def test_cancel_runner_stops_it(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/"
    response = client.post(f"{url}cancel/", headers=admin, json={"reason": "duplicate application"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert_problem(client.post(f"{url}execute/", headers=admin, json=SEED000_EXECUTE), 409)
    assert client.post(f"{url}cancel/", headers=admin).status_code in (200, 409)
    # Its store stays as it ended: a late write is refused and changes nothing.
    before = client.get(f"{url}store/", headers=admin).get_json()
    refused = assert_problem(client.put(f"{url}store/", headers=admin, json={"data": {"late": 1}}), 409)
    assert refused["detail"] == "The runner is cancelled: its store stays as it ended."
    assert client.get(f"{url}store/", headers=admin).get_json() == before
    # Nor is it moved to another version: its history belongs to the one it ran on.
    moved = client.put(f"{url}design/", headers=admin, json={"design_id": runner["design_id"]})
    assert assert_problem(moved, 409)["detail"] == (
        "The runner is cancelled: it stays on the version it ran on.")


def test_a_failed_runner_is_retried_after_its_store_is_fixed(client, admin, make_flow, make_design):
    flow = make_flow("Gate")
    make_design({"name": "Gate", "start_node": "start", "nodes": [
        {"name": "start", "type": "start",
         "edges": [{"type": "goto", "target_node": "done", "config": {"condition": "store.ok"}}]},
        {"name": "done", "type": "end"}]}, flow=flow)
    runner = client.post("/v1/rego/runners/", headers=admin, json={"flow_id": flow["id"]}).get_json()
    assert runner["status"] == "failed" and runner["status_reason"]
    url = f"/v1/rego/runners/{runner['id']}/"
    client.put(f"{url}store/", headers=admin, json={"data": {"ok": True}})
    retried = client.post(f"{url}retry/", headers=admin)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["status"] == "succeeded"
    assert [e["status"] for e in retried.get_json()["executions"] if e["node"] == "start"] == [
        "failed", "succeeded"]
    assert_problem(client.post(f"{url}retry/", headers=admin), 409)


# --- public ---------------------------------------------------------------------------------------
def test_flow_info_is_public_for_a_customers_runner_and_shows_only_the_current_step(client, admin, flow,
                                                                                   start):
    made = client.post("/flow/api/runners/", headers=admin, json={
        "flow_id": flow["id"], "email": "asha@example.com", "create_if_not_exists": True,
        "data": {"pan": "ABCDE1234F"}})
    assert made.status_code == 201, made.get_json()
    runner = made.get_json()
    client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin, json=SEED000_EXECUTE)
    response = client.get(f"/v1/rego/runners/{runner['id']}/flow-info/")
    assert response.status_code == 200
    info = response.get_json()
    assert info == {"flow_name": "Seed flow", "runner_id": runner["id"], "ref_id": runner["ref_id"],
                    "status": "waiting", "stage": "kyc", "current_nodes": [
                        {"name": "kyc", "type": "form", "stage": "kyc", "form_schema": KYC_SCHEMA}]}
    assert "ABCDE1234F" not in response.get_data(as_text=True)
    assert_problem(client.get("/v1/rego/runners/00000000-0000-4000-8000-000000000000/flow-info/"), 404)
    # Staff's own runner (no customer) is not customer-facing: its flow is not shown to anyone.
    assert_problem(client.get(f"/v1/rego/runners/{start()['id']}/flow-info/"), 404)


def test_signed_callbacks_move_the_runner_once(client, admin, company, make_flow, make_design):
    flow = make_flow("Callback")
    make_design({"name": "Callback", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "bureau"}]},
        {"name": "bureau", "type": "callback", "config": {"store_as": "bureau"},
         "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end"}]}, flow=flow)
    secrets.set_secret(Principal.system(company.id), callbacks.SIGNING_SECRET, "whsec_api")
    runner = client.post("/v1/rego/runners/", headers=admin, json={"flow_id": flow["id"]}).get_json()
    token = db.session.scalar(select(CallbackToken.token).where(CallbackToken.runner_id == runner["id"]))
    raw, timestamp = json.dumps({"score": 780}).encode(), str(int(time.time()))

    def post(signature, event="evt-1"):
        return client.post(f"/v1/rego/runners/callback/{token}/", data=raw, content_type="application/json",
                           headers={"X-Flowdesk-Event-Id": event, "X-Flowdesk-Timestamp": timestamp,
                                    "X-Flowdesk-Signature": signature})

    assert_problem(post("sha256=" + "0" * 64), 401)
    good = callbacks.sign("whsec_api", "evt-1", timestamp, raw)
    assert post(good).get_json() == {"received": True, "duplicate": False}
    assert post(good).get_json() == {"received": True, "duplicate": True}
    got = client.get(f"/v1/rego/runners/{runner['id']}/", headers=admin).get_json()
    assert got["status"] == "succeeded"
    assert client.get(f"/v1/rego/runners/{runner['id']}/store/", headers=admin).get_json()["data"] == {
        "bureau": {"score": 780}}
    assert_problem(client.post("/v1/rego/runners/callback/unknown/", data=raw,
                               content_type="application/json"), 401)
