"""Seed 001's `POST /flow/api/runners/`: its exact payload, Basic auth, and secrets never shown."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Customer, Runner
from app.services import secrets
from app.services.principal import Principal
from tests.api.conftest import SEED_001_PARAMS, assert_problem, documented_bytes, error_paths
from tests.api.runner_fixtures import SECRETS, seed000_design, seed001_design
from tests.conftest import DEFAULT_PASSWORD

SEED_001_FIELDS = {"id", "created_at", "updated_at", "created_by", "ref_id", "flow_id", "design_id",
                   "params", "current_node", "store_id", "visited_nodes", "parent_runner_id",
                   "primary_user_id", "store_info"}
URL = "/flow/api/runners/"


@pytest.fixture
def flow(make_flow, make_design, company):
    made = make_flow("IDFC onboarding")
    make_design(seed001_design(), flow=made)
    for name, value in SECRETS.items():
        secrets.set_secret(Principal.system(company.id), name, value)
    return made


@pytest.fixture
def basic(client, company, make_user):
    user = make_user(company, roles=("credit_officer",), email="ops@lender.example")
    return {"Authorization": _basic(user.email, DEFAULT_PASSWORD)}, user


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def seed_body(flow_id: str, **changes):
    """Seed 001's request body, verbatim but for the flow id (and without its `//` comments)."""
    return {"flow_id": flow_id, "email": "gautam.s@crego.ai", "create_if_not_exists": True,
            "type": "customer", "action": "auto",
            "data": {"contact": {"email": "gautam.s@crego.ai"}}, **changes}


def test_seed_001_request_creates_customer_and_runner_and_answers_201(client, basic, flow, company):
    headers, user = basic
    response = client.post(URL, headers=headers, json=seed_body(flow["id"]))
    assert response.status_code == 201, response.get_json()
    runner = response.get_json()
    assert set(runner) >= SEED_001_FIELDS
    assert re.fullmatch(r"RUNNER-\d{4}-\d+", runner["ref_id"])
    assert (runner["flow_id"], runner["created_by"]) == (flow["id"], user.id)
    customer = db.session.get(Customer, runner["primary_user_id"])
    assert (customer.company_id, customer.email) == (company.id, "gautam.s@crego.ai")
    assert runner["current_node"] == "kyc"  # the `action` ran at the first waiting node
    assert runner["visited_nodes"] == ["start", "welcome", "kyc"]
    assert isinstance(runner["store_info"], dict) and runner["parent_runner_id"] is None


def test_params_are_rendered_with_secrets_masked_and_never_revealed(client, admin, basic, flow):
    headers, _ = basic
    response = client.post(URL, headers=headers, json=seed_body(flow["id"]))
    params = response.get_json()["params"]
    login = params["auth_token_config"]["bearer"]["login"]
    assert login["url"] == "********/authorization/oauth2/token"
    assert login["data"]["client_id"] == login["data"]["client_assertion"] == "********"
    assert params["encryption_config"]["key"] == "********"
    assert params["storage"] == {"vendor": "********", "creds_key": "storage_s3_creds"}
    assert params["auth_token_config"]["cache"]["key"] == response.get_json()["id"]  # ${RUNNER_ID}
    assert params["states"] == SEED_001_PARAMS["states"]
    got = client.get(f"/v1/rego/runners/{response.get_json()['id']}/", headers=admin)
    for text in (response.get_data(as_text=True), got.get_data(as_text=True)):
        assert "TOPSECRET" not in text and "${SECRET" not in text
    assert got.get_json()["params"] == params
    # Get Runner writes its JSON without marshmallow: still exactly what its schema documents.
    from app.api.runner_schemas import RunnerDetailSchema

    assert got.get_data() == documented_bytes(RunnerDetailSchema, got.get_json())


def test_the_same_customer_is_reused_and_contacts_are_normalised(client, basic, flow):
    headers, _ = basic
    first = client.post(URL, headers=headers, json=seed_body(flow["id"], email=" Gautam.S@Crego.AI "))
    again = client.post(URL, headers=headers, json=seed_body(flow["id"]))
    assert first.get_json()["primary_user_id"] == again.get_json()["primary_user_id"]
    assert first.get_json()["id"] != again.get_json()["id"]
    body = {k: v for k, v in seed_body(flow["id"]).items() if k != "email"}
    by_mobile = client.post(URL, headers=headers, json={**body, "mobile": "9569476978"})
    assert by_mobile.status_code == 201, by_mobile.get_json()
    assert db.session.get(Customer, by_mobile.get_json()["primary_user_id"]).mobile == "+919569476978"
    with_code = client.post(URL, headers=headers, json={**body, "mobile": "+91 95694 76978"})
    assert with_code.get_json()["primary_user_id"] == by_mobile.get_json()["primary_user_id"]


def test_unknown_customer_without_create_is_404_and_creates_nothing(client, basic, flow):
    headers, _ = basic
    body = seed_body(flow["id"], email="new@example.com", create_if_not_exists=False)
    assert_problem(client.post(URL, headers=headers, json=body), 404)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Runner)) == 0


def test_bad_payloads_are_422_with_field_paths(client, basic, flow):
    headers, _ = basic
    body = {k: v for k, v in seed_body(flow["id"]).items() if k != "email"}
    assert error_paths(assert_problem(client.post(URL, headers=headers, json=body), 422)) == {"email"}
    assert error_paths(assert_problem(client.post(URL, headers=headers, json={**body, "mobile": "12"}),
                                      422)) == {"mobile"}
    assert error_paths(assert_problem(client.post(URL, headers=headers, json=seed_body(
        flow["id"], type="vendor")), 422)) == {"type"}
    assert_problem(client.post(URL, headers=headers, json=seed_body(flow["id"], email="not-an-email")), 422)
    assert_problem(client.post(URL, headers=headers, json=seed_body("no-such-flow")), 404)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_bearer_tokens_work_too_and_no_credentials_is_401(client, admin, flow, stranger):
    assert client.post(URL, headers=admin, json=seed_body(flow["id"])).status_code == 201
    assert_problem(client.post(URL, json=seed_body(flow["id"])), 401)
    assert_problem(client.post(URL, headers={"Authorization": _basic("ops@lender.example", "wrong")},
                               json=seed_body(flow["id"])), 401)
    assert_problem(client.post(URL, headers=stranger, json=seed_body(flow["id"])), 404)


def test_viewers_may_not_create_customers_runners(client, viewer, flow):
    assert_problem(client.post(URL, headers=viewer, json=seed_body(flow["id"])), 403)


def test_idempotent_replay(client, admin, flow):
    headers = {**admin, "Idempotency-Key": "seed-001-a"}
    first = client.post(URL, headers=headers, json=seed_body(flow["id"]))
    again = client.post(URL, headers=headers, json=seed_body(flow["id"]))
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Runner)) == 1


def test_customers_are_found_by_search_after(client, admin, flow):
    body = {k: v for k, v in seed_body(flow["id"]).items() if k != "email"}
    runner = client.post(URL, headers=admin, json={**body, "mobile": "9569476978"}).get_json()
    for q in ("9569476978", "+919569476978"):
        items = client.get("/v1/rego/runners/", headers=admin, query_string={"q": q}).get_json()["items"]
        assert [r["id"] for r in items] == [runner["id"]]
    assert client.get("/v1/rego/runners/?q=someone@else.example", headers=admin).get_json()["items"] == []


def test_it_is_in_the_openapi_document(client):
    spec = client.get("/v1/openapi.json").get_json()
    operation = spec["paths"]["/flow/api/runners/"]["post"]
    assert operation["summary"] == "Create Runner"
    assert "201" in operation["responses"]


def test_customer_type_submits_the_first_step_as_the_customer(client, admin, basic, company):
    """A design whose first step only the customer may submit (like the demo onboarding) still
    accepts seed 001's request: the integration files the application on the customer's behalf."""
    design = seed000_design()
    design["nodes"][1]["permissions"] = [{"roles": ["customer"], "actions": ["auto"]}]
    created = client.post("/v1/rego/flows/", headers=admin,
                          json={"name": "Customer only", "slug": "cust-only"})
    flow_id = created.get_json()["id"]
    made = client.post("/v1/rego/designs/", headers=admin, json={"flow_id": flow_id, "document": design})
    assert made.status_code == 201, made.get_json()
    headers, _ = basic
    response = client.post(URL, headers=headers, json=seed_body(flow_id))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["current_node"] == "kyc"
    refused = client.post(URL, headers=headers, json=seed_body(flow_id, type="staff"))
    assert refused.status_code in (403, 422)


def test_a_request_whose_first_step_is_refused_leaves_no_customer_behind(client, admin, basic):
    """A refused first step answers 422 and changes nothing: asking again without
    `create_if_not_exists` still finds no such customer."""
    design = seed000_design()
    design["nodes"][1]["permissions"] = [{"roles": ["customer"], "actions": ["auto"]}]
    design["nodes"][1]["config"] = {"schema": {"type": "object", "required": ["pan"],
                                               "properties": {"pan": {"type": "string"}}}}
    flow_id = client.post("/v1/rego/flows/", headers=admin,
                          json={"name": "Strict", "slug": "strict"}).get_json()["id"]
    made = client.post("/v1/rego/designs/", headers=admin, json={"flow_id": flow_id, "document": design})
    assert made.status_code == 201, made.get_json()
    headers, _ = basic
    body = seed_body(flow_id, email="leak.check@x.example")
    refused = client.post(URL, headers=headers, json=body)
    assert refused.status_code == 422, refused.get_json()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Customer)
                             .where(Customer.email == "leak.check@x.example")) == 0
    assert db.session.scalar(select(func.count()).select_from(Runner)) == 0
    again = client.post(URL, headers=headers, json={**body, "create_if_not_exists": False})
    assert again.status_code == 404
