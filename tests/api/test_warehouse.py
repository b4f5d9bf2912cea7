"""The warehouse: runners' stores across a flow, projected with JMESPath, as JSON or CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.conftest import assert_problem, error_paths
from tests.api.runner_fixtures import seed000_design

URL = "/v1/rego/warehouse/"


@pytest.fixture
def flow(client, admin, make_flow, make_design):
    made = make_flow("Warehouse")
    make_design(seed000_design(), flow=made)
    for n, (name, amount) in enumerate((("Asha", 100), ("=cmd|' /C calc'!A0", 200), ("Ravi", 300))):
        runner = client.post("/v1/rego/runners/", headers=admin, json={
            "flow_id": made["id"], "data": {"applicant": {"name": name}, "loan": {"amount": amount}}})
        assert runner.status_code == 201
        if n == 2:  # one runner moves on to the kyc stage
            client.post(f"/v1/rego/runners/{runner.get_json()['id']}/execute/", headers=admin,
                        json={"action": "auto", "data": {}})
    return made


def rows(client, headers, **query):
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_projection_over_every_store_of_the_flow(client, admin, flow):
    page = rows(client, admin, flow_id=flow["id"], projection="{name: applicant.name, amount: loan.amount}")
    assert [r["data"] for r in page["items"]] == [
        {"name": "Ravi", "amount": 300}, {"name": "=cmd|' /C calc'!A0", "amount": 200},
        {"name": "Asha", "amount": 100}]
    assert {"runner_id", "ref_id", "status", "stage", "created_at"} <= set(page["items"][0])
    whole = rows(client, admin, flow_id=flow["id"], stage="kyc")["items"]
    assert [r["data"] for r in whole] == [{"applicant": {"name": "Ravi"}, "loan": {"amount": 300}}]
    assert rows(client, admin, flow_id=flow["id"], status="succeeded")["items"] == []


def test_pages_follow_the_continuation_token(client, admin, flow):
    first = rows(client, admin, flow_id=flow["id"], projection="loan.amount", limit=2)
    rest = rows(client, admin, flow_id=flow["id"], projection="loan.amount", limit=2,
                continuation_token=first["continuation_token"])
    assert [r["data"] for r in first["items"] + rest["items"]] == [300, 200, 100]
    assert rest["continuation_token"] is None


def test_csv_has_one_column_per_projected_key_and_defuses_formulas(client, admin, flow):
    response = client.get(URL, headers=admin, query_string={
        "flow_id": flow["id"], "projection": "{name: applicant.name, amount: loan.amount}",
        "format": "csv", "limit": 2})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == ["runner_id", "ref_id", "status", "stage", "created_at", "name", "amount"]
    assert [row[5:] for row in table[1:]] == [["Ravi", "300"], ["'=cmd|' /C calc'!A0", "200"]]
    token = response.headers["Continuation-Token"]
    last = client.get(URL, headers=admin, query_string={
        "flow_id": flow["id"], "projection": "loan.amount", "format": "csv", "continuation_token": token})
    table = list(csv.reader(io.StringIO(last.get_data(as_text=True))))
    assert table[0][-1] == "value" and [row[-1] for row in table[1:]] == ["100"]
    assert "Continuation-Token" not in last.headers


def test_bad_projection_and_missing_flow_are_problems(client, admin, flow, stranger):
    body = assert_problem(client.get(URL, headers=admin, query_string={
        "flow_id": flow["id"], "projection": "applicant.[name"}), 422)
    assert error_paths(body) == {"projection"}
    body = assert_problem(client.get(URL, headers=admin, query_string={
        "flow_id": flow["id"], "projection": "abs(applicant.name)"}), 422)
    assert error_paths(body) == {"projection"}
    assert error_paths(assert_problem(client.get(URL, headers=admin), 422)) == {"flow_id"}
    assert_problem(client.get(URL, headers=admin, query_string={"flow_id": flow["id"], "format": "xml"}), 422)
    assert_problem(client.get(URL, headers=stranger, query_string={"flow_id": flow["id"]}), 404)
