"""Store endpoints: standalone stores and runners' stores, per company."""

from __future__ import annotations

from tests.api.conftest import assert_problem, error_paths
from tests.api.runner_fixtures import seed000_design

STORE_FIELDS = {"id", "company_id", "runner_id", "data", "version", "created_at", "updated_at"}


def test_create_get_and_list_stores(client, admin, company):
    response = client.post("/v1/rego/stores/", headers=admin, json={"data": {"rates": {"gold": 9.5}}})
    assert response.status_code == 201, response.get_json()
    store = response.get_json()
    assert set(store) == STORE_FIELDS
    assert (store["company_id"], store["runner_id"], store["data"], store["version"]) == (
        company.id, None, {"rates": {"gold": 9.5}}, 1)
    assert client.get(f"/v1/rego/stores/{store['id']}/", headers=admin).get_json() == store
    empty = client.post("/v1/rego/stores/", headers=admin, json={}).get_json()
    assert empty["data"] == {}
    listed = client.get("/v1/rego/stores/", headers=admin).get_json()
    assert [s["id"] for s in listed["items"]] == [empty["id"], store["id"]]


def test_a_runners_store_is_listed_with_its_runner(client, admin, make_flow, make_design):
    flow = make_flow()
    make_design(seed000_design(), flow=flow)
    runner = client.post("/v1/rego/runners/", headers=admin,
                         json={"flow_id": flow["id"], "data": {"a": 1}}).get_json()
    store = client.get(f"/v1/rego/stores/{runner['store_id']}/", headers=admin).get_json()
    assert (store["runner_id"], store["data"]) == (runner["id"], {"a": 1})


def test_stores_page_without_duplicates(client, admin):
    made = [client.post("/v1/rego/stores/", headers=admin, json={"data": {"n": n}}).get_json()["id"]
            for n in range(5)]
    first = client.get("/v1/rego/stores/?limit=2", headers=admin).get_json()
    client.post("/v1/rego/stores/", headers=admin, json={"data": {"n": "late"}})
    rest = client.get("/v1/rego/stores/", headers=admin, query_string={
        "limit": 10, "continuation_token": first["continuation_token"]}).get_json()
    assert [s["id"] for s in first["items"] + rest["items"]] == list(reversed(made))


def test_isolation_roles_and_bad_input(client, admin, viewer, stranger):
    store = client.post("/v1/rego/stores/", headers=admin, json={"data": {"x": 1}}).get_json()
    assert_problem(client.get(f"/v1/rego/stores/{store['id']}/", headers=stranger), 404)
    assert client.get("/v1/rego/stores/", headers=stranger).get_json()["items"] == []
    assert client.get(f"/v1/rego/stores/{store['id']}/", headers=viewer).status_code == 200
    assert_problem(client.post("/v1/rego/stores/", headers=viewer, json={"data": {}}), 403)
    assert error_paths(assert_problem(client.post("/v1/rego/stores/", headers=admin, json={"data": "x"}),
                                      422)) == {"data"}
    assert_problem(client.post("/v1/rego/stores/", headers=admin, json={"data": {"a": "\x00"}}), 422)
    assert_problem(client.get("/v1/rego/stores/not-a-uuid/", headers=admin), 404)


def test_create_store_is_idempotent(client, admin):
    headers = {**admin, "Idempotency-Key": "store-1"}
    first = client.post("/v1/rego/stores/", headers=headers, json={"data": {"x": 1}})
    again = client.post("/v1/rego/stores/", headers=headers, json={"data": {"x": 1}})
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/v1/rego/stores/", headers=admin).get_json()["items"]) == 1
