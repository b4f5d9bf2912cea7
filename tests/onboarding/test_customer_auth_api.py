"""Customer Auth API: Send/Verify OTP, Refresh Token (rotation, reuse), Auth Ping, Exchange Token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Company, Customer, CustomerRefreshToken, Runner
from app.services import customer_auth, runners
from app.services.clock import travel
from app.services.demo_flows import load_demo_onboarding
from app.services.errors import AuthenticationFailed, NotFound, PermissionDenied
from tests.onboarding.conftest import ABOUT_YOU, E164, MOBILE, last_code

BASE = "/v1/rego/customer-auth"


def _send(client: FlaskClient, company: Company, **destination: str) -> Any:
    body = {"company": company.slug, **(destination or {"mobile": MOBILE})}
    return client.post(f"{BASE}/send-otp/", json=body)


def _tokens(client: FlaskClient, company: Company) -> dict[str, Any]:
    sent = _send(client, company).get_json()
    response = client.post(f"{BASE}/verify-otp/", json={"challenge_id": sent["challenge_id"],
                                                        "code": last_code(company.id)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _ping(client: FlaskClient, access: str) -> Any:
    return client.get(f"{BASE}/ping/", headers={"Authorization": f"Bearer {access}"})


def test_send_otp_answers_the_same_whether_or_not_the_customer_exists(
        client: FlaskClient, demo_company: Company) -> None:
    db.session.add(Customer(company_id=demo_company.id, mobile="+919876500001"))
    db.session.commit()
    known = _send(client, demo_company, mobile="9876500001")
    unknown = _send(client, demo_company, mobile="9876500002")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json().keys() == unknown.get_json().keys()
    assert {k: v for k, v in known.get_json().items() if k not in ("challenge_id", "destination")} == \
        {k: v for k, v in unknown.get_json().items() if k not in ("challenge_id", "destination")}


def test_send_otp_validates_and_limits(client: FlaskClient, demo_company: Company) -> None:
    both = _send(client, demo_company, mobile=MOBILE, email="a@example.com")
    assert both.status_code == 422 and both.mimetype == "application/problem+json"
    assert _send(client, demo_company, mobile="123").status_code == 422
    assert client.post(f"{BASE}/send-otp/", json={"company": "nope", "mobile": MOBILE}).status_code == 404
    assert _send(client, demo_company).status_code == 202
    again = _send(client, demo_company)
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= 60


def test_verify_otp_issues_tokens_for_the_customer_and_company(client: FlaskClient,
                                                               demo_company: Company) -> None:
    pair = _tokens(client, demo_company)
    customer = db.session.query(Customer).filter_by(company_id=demo_company.id, mobile=E164).one()
    assert pair["customer_id"] == customer.id and pair["company_id"] == demo_company.id
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["sub"] == customer.id and claims["cid"] == demo_company.id
    assert claims["exp"] - claims["iat"] == 900
    ping = _ping(client, pair["access_token"])
    assert ping.status_code == 200
    assert ping.get_json()["customer_id"] == customer.id


def test_every_verification_failure_is_one_401(client: FlaskClient, demo_company: Company) -> None:
    sent = _send(client, demo_company).get_json()
    code = last_code(demo_company.id)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [client.post(f"{BASE}/verify-otp/", json=body) for body in (
        {"challenge_id": sent["challenge_id"], "code": wrong},
        {"challenge_id": "00000000-0000-0000-0000-000000000000", "code": code},
    )]
    assert client.post(f"{BASE}/verify-otp/", json={"challenge_id": sent["challenge_id"],
                                                    "code": code}).status_code == 200
    answers.append(client.post(f"{BASE}/verify-otp/", json={"challenge_id": sent["challenge_id"],
                                                            "code": code}))
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_json()["detail"] for a in answers}) == 1


def test_refresh_rotates_and_a_reused_token_revokes_the_family(client: FlaskClient,
                                                               demo_company: Company) -> None:
    first = _tokens(client, demo_company)
    second = client.post(f"{BASE}/refresh-token/", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _ping(client, second["access_token"]).status_code == 200
    reused = client.post(f"{BASE}/refresh-token/", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    # The thief's reuse also kills the legitimate holder's newer token.
    assert client.post(f"{BASE}/refresh-token/",
                       json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert db.session.query(CustomerRefreshToken).filter(
        CustomerRefreshToken.revoked_at.is_(None)).count() == 0


def test_tokens_of_one_kind_do_not_pass_as_the_other(client: FlaskClient, demo_company: Company) -> None:
    pair = _tokens(client, demo_company)
    assert _ping(client, pair["refresh_token"]).status_code == 401
    assert client.post(f"{BASE}/refresh-token/",
                       json={"refresh_token": pair["access_token"]}).status_code == 401
    assert _ping(client, pair["access_token"] + "x").status_code == 401
    assert client.get(f"{BASE}/ping/").status_code == 401


def test_an_expired_access_token_is_refused(app, demo_company: Company) -> None:
    customer = customer_auth.customer_for_destination(demo_company, customer_auth.Destination("sms", E164))
    with travel(-timedelta(minutes=16)):
        stale = customer_auth.issue_tokens(customer)
    with pytest.raises(AuthenticationFailed):
        customer_auth.authenticate_access_token(stale.access_token)


def test_exchange_token_gives_staff_a_customer_token(client: FlaskClient, demo_company: Company,
                                                     make_token, make_company) -> None:
    _, raw = make_token(demo_company, roles=("credit_officer",))
    auth = {"Authorization": f"Bearer {raw}"}
    made = client.post(f"{BASE}/exchange-token/", json={"mobile": MOBILE}, headers=auth)
    assert made.status_code == 200
    assert _ping(client, made.get_json()["access_token"]).get_json()["company_id"] == demo_company.id
    again = client.post(f"{BASE}/exchange-token/", json={"customer_id": made.get_json()["customer_id"]},
                        headers=auth)
    assert again.get_json()["customer_id"] == made.get_json()["customer_id"]
    missing = client.post(f"{BASE}/exchange-token/", json={"email": "x@example.com",
                                                           "create_if_not_exists": False}, headers=auth)
    assert missing.status_code == 404
    other = make_company()
    outsider = Customer(company_id=other.id, mobile="+919876500009")
    db.session.add(outsider)
    db.session.commit()
    assert client.post(f"{BASE}/exchange-token/", json={"customer_id": outsider.id},
                       headers=auth).status_code == 404
    _, viewer = make_token(demo_company, roles=("viewer",))
    assert client.post(f"{BASE}/exchange-token/", json={"mobile": MOBILE},
                       headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    assert client.post(f"{BASE}/exchange-token/", json={"mobile": MOBILE}).status_code == 401


def test_customer_tokens_act_only_on_their_own_runners_customer_actions(app, demo_company: Company) -> None:
    flow = load_demo_onboarding(demo_company)
    mine = customer_auth.authenticate_access_token(customer_auth.issue_tokens(
        customer_auth.customer_for_destination(demo_company, customer_auth.Destination("sms", E164)),
    ).access_token).principal
    theirs = customer_auth.customer_principal(customer_auth.customer_for_destination(
        demo_company, customer_auth.Destination("email", "other@example.com")))
    my_runner = runners.create_runner(mine, flow_id=flow.id, customer_id=mine.id).runner
    their_runner = runners.create_runner(theirs, flow_id=flow.id, customer_id=theirs.id).runner
    with pytest.raises(NotFound):
        runners.execute_runner(mine, their_runner.id, action="submit", data=ABOUT_YOU)
    with pytest.raises(PermissionDenied):  # not an action the design grants the customer role
        runners.execute_runner(mine, my_runner.id, action="approve", data={})
    data = {**ABOUT_YOU, "monthly_income": 85000}
    assert runners.execute_runner(mine, my_runner.id, action="submit", data=data).runner.current_nodes \
        == ["address"]
    assert db.session.get(Runner, their_runner.id).current_nodes == ["about_you"]


def test_the_operations_are_in_the_openapi_document_with_seed_names(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    summaries = {op["summary"] for path, item in spec["paths"].items() if "customer-auth" in path
                 for op in item.values() if isinstance(op, dict) and "summary" in op}
    assert summaries == {"Send OTP", "Verify OTP", "Refresh Token", "Auth Ping", "Exchange Token"}
