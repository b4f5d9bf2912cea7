"""Idempotency-Key: replay, payload mismatch, in-flight requests, caller scope, release and expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Flow, IdempotencyRecord
from app.models.base import utcnow
from app.services import idempotency
from app.services.principal import Principal
from app.services.tokens import authenticate_api_token
from tests.api.conftest import assert_problem, error_paths

URL = "/v1/rego/flows/"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def flow_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Flow))


def caller(headers: dict[str, str]) -> Principal:
    return Principal.for_token(authenticate_api_token(headers["Authorization"].split()[1]))


def test_same_key_and_payload_replay_the_first_answer(client, admin):
    first = client.post(URL, json={"name": "Car loan"}, headers=keyed(admin, "k-1"))
    again = client.post(URL, json={"name": "Car loan"}, headers=keyed(admin, "k-1"))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert flow_count() == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(client, admin):
    first = client.post(URL, json={"name": "A", "tags": ["x"]}, headers=keyed(admin, "k-2"))
    again = client.post(URL, data='{ "tags": ["x"],  "name": "A" }', content_type="application/json",
                        headers=keyed(admin, "k-2"))
    assert again.get_json()["id"] == first.get_json()["id"]


def test_the_key_may_come_in_the_body(client, admin):
    first = client.post(URL, json={"name": "B", "idempotency_key": "body-key"}, headers=admin)
    again = client.post(URL, json={"name": "B"}, headers=keyed(admin, "body-key"))
    assert first.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert flow_count() == 1


def test_a_different_payload_with_the_same_key_is_422(client, admin):
    client.post(URL, json={"name": "C"}, headers=keyed(admin, "k-3"))
    body = assert_problem(client.post(URL, json={"name": "D"}, headers=keyed(admin, "k-3")), 422)
    assert error_paths(body) == {"Idempotency-Key"}
    other_path = client.post("/v1/rego/designs/", json={"name": "C"}, headers=keyed(admin, "k-3"))
    assert_problem(other_path, 422)
    assert flow_count() == 1


def test_a_request_still_in_flight_is_409(client, admin):
    payload = {"name": "E"}
    idempotency.claim_key(caller(admin), "k-4", idempotency.fingerprint("POST", URL, payload))
    assert_problem(client.post(URL, json=payload, headers=keyed(admin, "k-4")), 409)
    assert flow_count() == 0


def test_a_request_that_died_in_flight_frees_its_key_after_the_lock(client, admin):
    payload = {"name": "F"}
    idempotency.claim_key(caller(admin), "k-5", idempotency.fingerprint("POST", URL, payload),
                          now=utcnow() - idempotency.LOCK_FOR - timedelta(seconds=1))
    assert client.post(URL, json=payload, headers=keyed(admin, "k-5")).status_code == 201


def test_keys_are_scoped_to_the_caller(client, admin, viewer, company, make_token):
    other_admin = {"Authorization": f"Bearer {make_token(company, name='second')[1]}"}
    first = client.post(URL, json={"name": "G"}, headers=keyed(admin, "shared"))
    # Another body under the same key: were keys not per caller, this would be a 422 (or a replay).
    second = client.post(URL, json={"name": "G of the second caller"}, headers=keyed(other_admin, "shared"))
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]


def test_a_failed_request_releases_its_key(client, admin):
    assert_problem(client.post(URL, json={"name": ""}, headers=keyed(admin, "k-6")), 422)
    fixed = client.post(URL, json={"name": "H"}, headers=keyed(admin, "k-6"))
    assert fixed.status_code == 201
    assert_problem(client.post(URL, json={"name": "I", "slug": fixed.get_json()["slug"]},
                               headers=keyed(admin, "k-7")), 409)
    assert client.post(URL, json={"name": "I"}, headers=keyed(admin, "k-7")).status_code == 201


def test_keys_are_kept_a_day_then_expire(client, admin):
    first = client.post(URL, json={"name": "J"}, headers=keyed(admin, "k-8"))
    record = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-8"))
    assert record.expires_at - record.created_at >= timedelta(hours=24)
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    # Another body (flow names are unique): under a live key this would be a 422, not a new flow.
    later = client.post(URL, json={"name": "J again"}, headers=keyed(admin, "k-8"))
    assert later.status_code == 201 and later.get_json()["id"] != first.get_json()["id"]
    assert idempotency.purge_expired_keys(utcnow() + timedelta(days=2)) == 1


def test_key_length_and_conflicting_keys_are_422(client, admin):
    assert error_paths(assert_problem(
        client.post(URL, json={"name": "K"}, headers=keyed(admin, "x" * 256)), 422)) == {"Idempotency-Key"}
    body = assert_problem(client.post(URL, json={"name": "K", "idempotency_key": "a"},
                                      headers=keyed(admin, "b")), 422)
    assert error_paths(body) == {"idempotency_key"}


def test_duplicate_design_is_idempotent_too(client, admin, make_design):
    design = make_design()
    url = f"/v1/rego/designs/{design['id']}/duplicate/"
    first = client.post(url, json={}, headers=keyed(admin, "dup"))
    again = client.post(url, json={}, headers=keyed(admin, "dup"))
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["version"] == 2
