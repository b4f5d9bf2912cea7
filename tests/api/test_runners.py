"""Runner endpoints as seed 000's clients use them: create, execute, read, list, idempotency, access."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Customer, Runner
from app.services import customer_auth
from tests.api.conftest import assert_problem, documented_bytes, error_paths
from tests.api.runner_fixtures import KYC_SCHEMA, SEED000_EXECUTE, seed000_design

RUNNER_FIELDS = {"id", "company_id", "ref_id", "flow_id", "design_id", "params", "current_node",
                 "store_id", "visited_nodes", "parent_runner_id", "primary_user_id", "store_info",
                 "created_at", "updated_at", "created_by", "status", "status_reason", "stage",
                 "current_nodes", "executions"}
EXECUTION_FIELDS = {"node", "attempt", "status", "error", "duration_ms", "actor", "action",
                    "started_at", "finished_at"}


# --- create, execute, get -------------------------------------------------------------------------
def test_create_runner_answers_seed_001_fields_and_waits_at_the_first_form(client, admin, company, flow,
                                                                          start):
    runner = start(data={"source": "web"})
    assert set(runner) >= RUNNER_FIELDS
    assert re.fullmatch(r"RUNNER-\d{4}-1", runner["ref_id"])
    assert (runner["company_id"], runner["flow_id"]) == (company.id, flow["id"])
    assert (runner["status"], runner["current_node"], runner["stage"]) == ("waiting", "welcome", "intro")
    assert runner["visited_nodes"] == ["start", "welcome"]
    assert runner["params"] == {} and runner["primary_user_id"] is None
    store = client.get(f"/v1/rego/runners/{runner['id']}/store/", headers=admin).get_json()
    assert (store["id"], store["data"], store["runner_id"]) == (runner["store_id"], {"source": "web"},
                                                                runner["id"])


def test_execute_with_seed_000_body_answers_the_node_the_runner_now_stands_on(client, admin, start):
    runner = start()
    response = client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin, json=SEED000_EXECUTE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "company_id", "element", "tags", "description", "created_by",
                         "updated_by", "created_at", "updated_at", "runner", "replies"}
    assert body["id"] == runner["id"]
    element = body["element"]
    assert set(element) >= {"name", "type", "config", "permissions", "edges"}
    assert (element["name"], element["type"], element["config"]) == ("kyc", "form", {"schema": KYC_SCHEMA})
    assert [e["action"] for e in element["edges"]] == ["quote", "submit"]
    assert (body["tags"], body["description"]) == (["retail"], "Personal loan onboarding")
    assert body["runner"]["current_nodes"] == ["kyc"] and body["runner"]["stage"] == "kyc"
    assert body["replies"] == []


def test_return_edges_answer_in_replies_and_the_runner_stays(client, admin, start):
    runner = start()
    client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin, json=SEED000_EXECUTE)
    body = client.post(f"/v1/rego/runners/{runner['id']}/execute/", headers=admin,
                       json={"action": "quote", "data": {"amount": 5000}}).get_json()
    assert body["replies"] == [{"node": "kyc", "action": "quote", "data": {"quote": {"amount": 5000}}}]
    assert body["element"]["name"] == "kyc"


def test_execute_and_get_answer_exactly_what_their_documented_schemas_dump(client, admin, start):
    """Execute Runner writes its JSON without marshmallow (its hottest path): the bytes must be what
    the OpenAPI schema's dump would have sent, for a waiting answer with replies, a created one, and
    one where the runner ended (`element` null)."""
    from app.api.runner_schemas import ExecuteResultSchema, RunnerDetailSchema

    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/execute/"
    answers = [client.post(url, headers=admin, json=SEED000_EXECUTE),
               client.post(url, headers=admin,
                           json={"action": "quote", "data": {"amount": 5000.5, "ü": "✓"}}),
               client.post("/v1/rego/runners/create-and-execute/", headers=admin,
                           json={"flow_id": runner["flow_id"], "action": "auto", "data": {}}),
               client.post(url, headers=admin, json={"action": "submit", "data": {"pan": "X"}})]
    assert [a.status_code for a in answers] == [200, 200, 201, 200]
    assert answers[1].get_json()["replies"] and answers[3].get_json()["element"] is None
    for answer in answers:
        assert answer.mimetype == "application/json"
        assert answer.get_data() == documented_bytes(ExecuteResultSchema, answer.get_json())
    got = client.get(f"/v1/rego/runners/{runner['id']}/", headers=admin)  # Get Runner answers so too
    assert len(got.get_json()["executions"]) >= 4
    assert got.get_data() == documented_bytes(RunnerDetailSchema, got.get_json())


def test_get_runner_lists_every_node_execution_and_the_final_status(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/"
    client.post(f"{url}execute/", headers=admin, json=SEED000_EXECUTE)
    done = client.post(f"{url}execute/", headers=admin,
                       json={"action": "submit", "data": {"pan": "ABCDE1234F"}})
    assert done.get_json()["element"] is None  # ended: it stands on no node

    got = client.get(url, headers=admin).get_json()
    assert (got["status"], got["current_nodes"], got["current_node"]) == ("succeeded", [], None)
    assert got["visited_nodes"] == ["start", "welcome", "kyc", "done"]
    executions = got["executions"]
    assert all(set(e) == EXECUTION_FIELDS for e in executions)
    assert [(e["node"], e["status"]) for e in executions] == [
        ("start", "succeeded"), ("welcome", "succeeded"), ("kyc", "succeeded"), ("done", "succeeded")]
    assert [e["action"] for e in executions[1:3]] == ["auto", "submit"]
    assert all(e["duration_ms"] is not None and e["duration_ms"] >= 0 for e in executions)
    store = client.get(f"{url}store/", headers=admin).get_json()["data"]
    assert store["applicant"] == {"pan": "ABCDE1234F"}


def test_refused_actions_are_problems_and_change_nothing(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/execute/"
    # welcome takes only `auto`: another action is not permitted there.
    assert_problem(client.post(url, headers=admin, json={"action": "submit", "data": {}}), 403)
    client.post(url, headers=admin, json=SEED000_EXECUTE)
    bad = assert_problem(client.post(url, headers=admin, json={"action": "submit", "data": {"amount": "x"}}),
                         422)
    assert bad["errors"]
    assert_problem(client.post(url, headers=admin, json={"data": {}}), 422)
    after = client.get(f"/v1/rego/runners/{runner['id']}/", headers=admin).get_json()
    assert after["current_nodes"] == ["kyc"]


def test_create_and_execute_answers_like_execute(client, admin, flow):
    response = client.post("/v1/rego/runners/create-and-execute/", headers=admin,
                           json={"flow_id": flow["slug"], "action": "auto", "data": {}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["element"]["name"] == "kyc" and body["runner"]["status"] == "waiting"
    assert_problem(client.post("/v1/rego/runners/create-and-execute/", headers=admin,
                               json={"flow_id": flow["id"]}), 422)


def test_create_needs_an_existing_flow_or_design(client, admin):
    assert error_paths(assert_problem(client.post("/v1/rego/runners/", headers=admin, json={}), 422)) == {
        "flow_id"}
    assert_problem(client.post("/v1/rego/runners/", headers=admin, json={"flow_id": "nope"}), 404)
    assert_problem(client.post("/v1/rego/runners/", headers=admin,
                               json={"design_id": "00000000-0000-4000-8000-000000000000"}), 404)


def test_get_current_nodes(client, admin, start):
    runner = start()
    body = client.get(f"/v1/rego/runners/{runner['id']}/current-nodes/", headers=admin).get_json()
    assert body["status"] == "waiting"
    assert [n["name"] for n in body["current_nodes"]] == ["welcome"]


# --- idempotency ----------------------------------------------------------------------------------
def test_create_with_the_same_key_replays_and_starts_one_runner(client, admin, flow):
    headers = {**admin, "Idempotency-Key": "create-1"}
    first = client.post("/v1/rego/runners/", headers=headers, json={"flow_id": flow["id"]})
    again = client.post("/v1/rego/runners/", headers=headers, json={"flow_id": flow["id"]})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(db.func.count()).select_from(Runner)) == 1
    assert_problem(client.post("/v1/rego/runners/", headers=headers,
                               json={"flow_id": flow["id"], "data": {"x": 1}}), 422)


def test_execute_with_the_same_key_replays_instead_of_acting_twice(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/execute/"
    headers = {**admin, "Idempotency-Key": "exec-1"}
    first = client.post(url, headers=headers, json=SEED000_EXECUTE)
    again = client.post(url, headers=headers, json=SEED000_EXECUTE)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    # Without the key the same body is a second action, which the kyc node does not take.
    assert_problem(client.post(url, headers=admin, json=SEED000_EXECUTE), 403)


# --- lists ----------------------------------------------------------------------------------------
def test_pages_have_no_duplicates_or_gaps_while_runners_are_being_created(client, admin, start):
    existing = [start()["id"] for _ in range(7)]
    seen: list[str] = []
    token = None
    while True:
        query = {"limit": 3, **({"continuation_token": token} if token else {})}
        page = client.get("/v1/rego/runners/", headers=admin, query_string=query).get_json()
        seen += [r["id"] for r in page["items"]]
        start()  # a new runner arrives between every two pages
        token = page["continuation_token"]
        if token is None:
            break
    assert seen == list(reversed(existing))


def test_list_filters_combine(client, admin, make_flow, make_design, flow, start):
    other = make_flow("Other")
    make_design(seed000_design(), flow=other)
    waiting, moved = start()["id"], start()["id"]
    client.post(f"/v1/rego/runners/{moved}/execute/", headers=admin, json=SEED000_EXECUTE)
    client.post("/v1/rego/runners/", headers=admin, json={"flow_id": other["id"]})

    def ids(**query):
        response = client.get("/v1/rego/runners/", headers=admin, query_string=query)
        assert response.status_code == 200, response.get_json()
        return {r["id"] for r in response.get_json()["items"]}

    assert ids(flow_id=flow["id"]) == {waiting, moved}
    assert ids(flow_id=flow["id"], stage="kyc") == {moved}
    assert ids(status="succeeded") == set()
    ref = client.get(f"/v1/rego/runners/{waiting}/", headers=admin).get_json()["ref_id"]
    assert ids(q=ref.lower()) == {waiting}
    assert ids(created_after="2000-01-01T00:00:00", created_before="2000-01-02T00:00:00") == set()
    assert len(ids(created_after="2000-01-01T00:00:00Z")) == 3
    bad = assert_problem(client.get("/v1/rego/runners/?status=sleeping", headers=admin), 422)
    assert error_paths(bad) == {"status"}
    assert_problem(client.get("/v1/rego/runners/?continuation_token=forged", headers=admin), 422)


def test_activity_is_paged_newest_first(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/"
    client.post(f"{url}execute/", headers=admin, json=SEED000_EXECUTE)
    client.post(f"{url}execute/", headers=admin, json={"action": "quote", "data": {"amount": 1}})
    everything = client.get(f"{url}activity/?limit=100", headers=admin).get_json()
    kinds = [a["kind"] for a in everything["items"]]
    assert kinds[-1] == "runner.created" and kinds.count("runner.action") == 2
    first = client.get(f"{url}activity/?limit=2", headers=admin).get_json()
    rest = client.get(f"{url}activity/", headers=admin, query_string={
        "limit": 100, "continuation_token": first["continuation_token"]}).get_json()
    assert [a["id"] for a in first["items"] + rest["items"]] == [a["id"] for a in everything["items"]]


def test_executions_are_paged_newest_first_and_match_get_runner(client, admin, start):
    runner = start()
    url = f"/v1/rego/runners/{runner['id']}/"
    client.post(f"{url}execute/", headers=admin, json=SEED000_EXECUTE)
    for amount in (1, 2, 3):
        client.post(f"{url}execute/", headers=admin, json={"action": "quote", "data": {"amount": amount}})
    history = client.get(url, headers=admin).get_json()["executions"]  # oldest first, in full
    first = client.get(f"{url}executions/?limit=2", headers=admin).get_json()
    assert len(first["items"]) == 2 and first["continuation_token"]
    rest = client.get(f"{url}executions/", headers=admin, query_string={
        "limit": 100, "continuation_token": first["continuation_token"]}).get_json()
    assert rest["continuation_token"] is None
    assert first["items"] + rest["items"] == list(reversed(history))
    assert_problem(client.get(f"{url}executions/", headers=admin,
                              query_string={"continuation_token": "forged"}), 422)


# --- who may see what -----------------------------------------------------------------------------
def test_another_company_sees_nothing(client, admin, stranger, start, flow):
    runner = start()
    base = f"/v1/rego/runners/{runner['id']}/"
    for method, path, body in (("get", "", None), ("post", "execute/", SEED000_EXECUTE),
                               ("get", "store/", None), ("put", "store/", {"data": {"x": 1}}),
                               ("get", "activity/", None), ("get", "executions/", None),
                               ("get", "current-nodes/", None),
                               ("post", "parse-template/", {"template": "${store}"}),
                               ("post", "cancel/", {}), ("post", "retry/", None),
                               ("put", "design/", {"design_id": runner["design_id"]})):
        response = getattr(client, method)(base + path, headers=stranger, json=body)
        assert_problem(response, 404)
    assert client.get("/v1/rego/runners/", headers=stranger).get_json()["items"] == []
    assert_problem(client.post("/v1/rego/runners/", headers=stranger, json={"flow_id": flow["id"]}), 404)
    assert client.get(base, headers=admin).get_json()["status"] == "waiting"


def test_customer_tokens_act_only_on_their_own_runner(client, admin, company, flow):
    mine, theirs = (Customer(company_id=company.id, email=f"{n}@example.com") for n in ("me", "them"))
    db.session.add_all([mine, theirs])
    db.session.commit()
    own, other = (
        client.post("/flow/api/runners/", headers=admin, json={
            "flow_id": flow["id"], "email": c.email, "create_if_not_exists": False}).get_json()["id"]
        for c in (mine, theirs))
    token = {"Authorization": f"Bearer {customer_auth.issue_tokens(mine).access_token}"}
    seen = client.get(f"/v1/rego/runners/{own}/", headers=token).get_json()
    assert (seen["id"], seen["params"], seen["executions"]) == (own, None, [])
    executed = client.post(f"/v1/rego/runners/{own}/execute/", headers=token, json=SEED000_EXECUTE)
    assert executed.status_code == 200, executed.get_json()
    assert client.get(f"/v1/rego/runners/{own}/current-nodes/", headers=token).status_code == 200
    for path in ("", "current-nodes/"):
        assert_problem(client.get(f"/v1/rego/runners/{other}/{path}", headers=token), 404)
    assert_problem(client.post(f"/v1/rego/runners/{other}/execute/", headers=token,
                               json=SEED000_EXECUTE), 404)
    for path in ("store/", "activity/"):  # staff-only views
        assert_problem(client.get(f"/v1/rego/runners/{own}/{path}", headers=token), 403)
    assert_problem(client.get("/v1/rego/runners/", headers=token), 403)
