"""API fixtures: callers of two companies with different roles, sample designs, a problem checker."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.models import Company

ROOT = Path(__file__).resolve().parents[2]
LOAN = json.loads((ROOT / "docs" / "examples" / "loan.json").read_text(encoding="utf-8"))
SEED_001_PARAMS = json.loads(
    (ROOT / "tests" / "engine" / "fixtures" / "seed001_params.json").read_text(encoding="utf-8"))
TINY = {
    "name": "Tiny", "start_node": "start",
    "nodes": [
        {"name": "start", "type": "start", "config": {},
         "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end", "config": {}},
    ],
}
BROKEN = {"name": "Broken", "start_node": "nowhere",
          "nodes": [{"name": "start", "type": "start", "config": {}},
                    {"name": "beam", "type": "teleport", "config": {}}]}


def loan() -> dict[str, Any]:
    return copy.deepcopy(LOAN)


def tiny(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(TINY), **changes}


def with_subflow(flow_ref: str, **config: Any) -> dict[str, Any]:
    """start -> a subflow node running `flow_ref` -> end."""
    return {"name": "Parent", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "config": {},
         "edges": [{"type": "goto", "target_node": "child"}]},
        {"name": "child", "type": "subflow", "config": {"flow": flow_ref, **config},
         "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end", "config": {}},
    ]}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status`; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def error_paths(body: dict[str, Any]) -> set[str]:
    return {e["path"] for e in body.get("errors", [])}


@pytest.fixture
def company(make_company: Callable[..., Company]) -> Company:
    return make_company()


def _headers(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def admin(company: Company, make_token: Callable[..., Any]) -> dict[str, str]:
    return _headers(make_token(company, roles=("admin",))[1])


@pytest.fixture
def viewer(company: Company, make_token: Callable[..., Any]) -> dict[str, str]:
    return _headers(make_token(company, roles=("viewer",), name="viewer")[1])


@pytest.fixture
def stranger(make_token: Callable[..., Any]) -> dict[str, str]:
    """An admin of another company."""
    return _headers(make_token(roles=("admin",), name="stranger")[1])


@pytest.fixture
def make_flow(client: FlaskClient, admin: dict[str, str]) -> Callable[..., dict[str, Any]]:
    defaults = 0

    def make(name: str | None = None, **fields: Any) -> dict[str, Any]:
        nonlocal defaults
        if name is None:  # two flows of a company may not share a name: number the later ones
            defaults += 1
            name = "Personal loan" + (f" {defaults}" if defaults > 1 else "")
        response = client.post("/v1/rego/flows/", json={"name": name, **fields}, headers=admin)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def make_design(client: FlaskClient, admin: dict[str, str],
                make_flow: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def make(document: dict[str, Any] | None = None, flow: dict[str, Any] | None = None,
             **fields: Any) -> dict[str, Any]:
        flow = flow or make_flow()
        response = client.post("/v1/rego/designs/", headers=admin, json={
            "flow_id": flow["id"], "document": loan() if document is None else document, **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


# A flow on seed 000's design, and a starter of its runners, for the runner API tests (a module
# that needs another `flow` defines its own, which takes precedence).
@pytest.fixture
def flow(make_flow, make_design):
    from tests.api.runner_fixtures import seed000_design  # it imports this module

    made = make_flow("Seed flow", tags=["retail"])
    make_design(seed000_design(), flow=made, description="Personal loan onboarding")
    return made


@pytest.fixture
def start(client, admin, flow):
    def start_runner(headers=None, **body):
        response = client.post("/v1/rego/runners/", headers=headers or admin,
                               json={"flow_id": flow["id"], **body})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return start_runner


def documented_bytes(schema: type, body: dict[str, Any]) -> bytes:
    """What flask-smorest sent for `body` before a view answered through `app.api.answers`: the
    schema's dump, then `jsonify` (loading first also refuses any field the schema lacks)."""
    from flask import jsonify

    return jsonify(schema().dump(schema().load(body))).get_data()
