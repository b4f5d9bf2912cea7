"""Fixtures for onboarding: the demo flow, reading codes from the console outbox, a signed-in customer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import app.api.customer_auth  # noqa: F401  attaches its routes to v1 before any app is built
from app.models import Company, Flow
from app.services import senders
from app.services.demo_flows import load_demo_onboarding
from tests.conftest import csrf_from

MOBILE = "9876543210"  # read in the default region IN -> +919876543210
E164 = "+919876543210"


@pytest.fixture(autouse=True)
def _empty_outbox() -> Iterator[None]:
    senders.clear_outbox()
    yield
    senders.clear_outbox()


def last_code(company_id: str, to: str | None = None) -> str:
    for message in senders.outbox(company_id):
        if to is None or message.to == to:
            match = re.search(r"\b(\d{6})\b", message.body)
            assert match, message.body
            return match.group(1)
    raise AssertionError("no code in the outbox")


@dataclass
class Onboarding:
    company: Company
    flow: Flow
    client: FlaskClient

    @property
    def url(self) -> str:
        return f"/onboard/{self.flow.slug}"

    def send(self, destination: str = MOBILE, **extra: Any) -> Any:
        token = csrf_from(self.client.get(self.url).get_data(as_text=True))
        return self.client.post(self.url, data={"destination": destination, "csrf_token": token, **extra})

    def enter(self, code: str) -> Any:
        token = csrf_from(self.client.get(f"{self.url}/code").get_data(as_text=True))
        return self.client.post(f"{self.url}/code", data={"code": code, "csrf_token": token})

    def sign_in(self, destination: str = MOBILE, to: str = E164) -> Any:
        assert self.send(destination).status_code == 302
        response = self.enter(last_code(self.company.id, to))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def submit(self, data: dict[str, Any], node: str, **files: Any) -> Any:
        token = csrf_from(self.client.get(f"{self.url}/step").get_data(as_text=True))
        return self.client.post(f"{self.url}/step", data={"csrf_token": token, "node": node, **data, **files},
                                content_type="multipart/form-data")


@pytest.fixture
def demo_company(make_company: Callable[..., Company]) -> Company:
    return make_company("Demo Lending", "demo-lending")


@pytest.fixture
def onboarding(app: Flask, client: FlaskClient, demo_company: Company) -> Onboarding:
    return Onboarding(demo_company, load_demo_onboarding(demo_company), client)


ABOUT_YOU = {"full_name": "Asha Rao", "date_of_birth": "1990-04-01", "pan": "ABCDE1234F",
             "monthly_income": "85000", "employment": "salaried"}
ADDRESS = {"line1": "12 MG Road", "city": "Bengaluru", "state": "KARNATAKA", "pincode": "560001",
           "consent": "on"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def flow_without_reupload(company: Company) -> Flow:
    """The demo's onboarding design without the review's way back to the documents (slug no-loop),
    open to customers: a file asked for again is then sent from the progress page."""
    from app.services import flows
    from app.services.demo_flows import onboarding_design
    from app.services.principal import Principal

    design = onboarding_design()
    review = next(n for n in design["nodes"] if n["name"] == "review")
    review["edges"] = [e for e in review["edges"] if e["action"] != "reupload"]
    system = Principal.system(company.id)
    flow = flows.create_flow(system, name="No loop", slug="no-loop")
    flows.mark_current_design(system, flows.create_design(system, flow_id=flow.id, document=design).id)
    return flows.set_customer_onboarding(system, flow.id, open_=True)


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app: Flask, tmp_path: Any) -> None:
    """Uploaded bytes go to the test's own folder, never the repository's instance/."""
    app.config["FLOWDESK_STORAGE_ROOT"] = str(tmp_path / "uploads")
    app.extensions.pop("flowdesk_storage", None)
