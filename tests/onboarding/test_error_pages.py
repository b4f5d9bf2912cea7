"""Error pages a customer meets under /onboard/ lead back to their application, never to the staff
dashboard (and its sign-in)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from app.web.onboarding import steps
from tests.conftest import csrf_from
from tests.onboarding.conftest import Onboarding


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_an_unknown_flow_sends_no_customer_to_the_dashboard(onboarding: Onboarding) -> None:
    response = onboarding.client.get("/onboard/no-such-flow")
    page = _text(response)
    assert response.status_code == 404 and "Not found" in page
    assert "Back to the dashboard" not in page
    assert "Check the address you were given, or contact the company that sent it." in page


def test_a_missing_document_leads_back_to_the_application(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    token = csrf_from(_text(onboarding.client.get(f"{onboarding.url}/step")))
    response = onboarding.client.post(f"{onboarding.url}/documents/{uuid.uuid4()}",
                                      data={"csrf_token": token})
    page = _text(response)
    assert response.status_code == 404 and "Back to the dashboard" not in page
    assert f'<a href="{onboarding.url}">Back to your application</a>' in page


def test_a_failure_on_a_step_leads_back_to_the_application(onboarding: Onboarding,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    onboarding.sign_in()

    def broken(runner: Any) -> Any:
        raise RuntimeError("stage lookup failed")

    monkeypatch.setattr(steps, "stages", broken)
    response = onboarding.client.get(f"{onboarding.url}/step")
    page = _text(response)
    assert response.status_code == 500 and "Something went wrong" in page
    assert f'<a href="{onboarding.url}">Back to your application</a>' in page
    assert "Back to the dashboard" not in page


def test_a_too_large_sign_in_post_leads_back_to_the_application(app: Flask, onboarding: Onboarding) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    token = csrf_from(_text(onboarding.client.get(onboarding.url)))
    response = onboarding.client.post(onboarding.url, data={"csrf_token": token, "destination": "9" * 4096})
    page = _text(response)
    assert response.status_code == 413 and "Too large to accept" in page
    assert f'<a href="{onboarding.url}">Back to your application</a>' in page


def test_the_company_choice_is_kept_on_the_way_back(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    token = csrf_from(_text(onboarding.client.get(f"{onboarding.url}/step")))
    page = _text(onboarding.client.post(f"{onboarding.url}/documents/{uuid.uuid4()}?company=demo-lending",
                                        data={"csrf_token": token}))
    assert f'<a href="{onboarding.url}?company=demo-lending">Back to your application</a>' in page


def test_the_brand_on_customer_pages_does_not_lead_to_the_staff_sign_in(onboarding) -> None:
    page = onboarding.client.get(onboarding.url).get_data(as_text=True)
    assert f'<span class="brand">{onboarding.company.name}</span>' in page  # a name, not a link
    assert 'href="/login"' not in page
