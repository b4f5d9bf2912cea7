"""The demo onboarding in a real browser on a phone-sized screen: phone number to "under review",
the uploaded PAN card landing in the documents service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.models import Company, Runner
from app.services import documents
from app.services.demo_flows import load_demo_onboarding
from app.services.principal import Principal
from tests.onboarding.conftest import ABOUT_YOU, E164, MOBILE, PDF, last_code

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
def test_a_customer_onboards_on_a_phone(live_server: str, chromium: Any, demo_company: Company) -> None:
    from playwright.sync_api import expect

    flow = load_demo_onboarding(demo_company)
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_server}/onboard/{flow.slug}")
    page.get_by_label("Mobile number or email").fill(MOBILE)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("6-digit code").fill(last_code(demo_company.id, E164))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    page.get_by_label("Full name").fill(ABOUT_YOU["full_name"])
    page.get_by_label("Date of birth").fill(ABOUT_YOU["date_of_birth"])
    page.get_by_label("PAN").fill("abc")
    page.get_by_label("Monthly income (INR)").click()  # leaving PAN triggers htmx validation
    expect(page.locator("#f-pan-errors")).to_contain_text("expected format")
    page.get_by_label("PAN").fill(ABOUT_YOU["pan"])
    page.get_by_label("Monthly income (INR)").fill(ABOUT_YOU["monthly_income"])
    expect(page.locator("#f-pan-errors")).to_be_empty()
    page.get_by_label("Employment").select_option(label="Salaried")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Your address")).to_be_visible()
    page.get_by_label("House and street").fill("12 MG Road")
    page.get_by_label("City").fill("Bengaluru")
    page.get_by_label("State").select_option(label="Karnataka")
    page.get_by_label("PIN code").fill("560001")
    page.get_by_label("I agree that the lender may check my credit record").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Upload your documents")).to_be_visible()
    page.get_by_label("PAN card").set_input_files(
        {"name": "pan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Under review")).to_be_visible()
    expect(page.locator('[aria-current="step"]')).to_contain_text("Review")
    page.screenshot(path=str(ARTIFACTS / "onboarding-under-review.png"), full_page=True)
    assert (ARTIFACTS / "onboarding-under-review.png").stat().st_size > 0
    db.session.expire_all()
    runner = db.session.query(Runner).one()
    uploaded = {d.doc_type: (d.status, [f.filename for f in d.files])
                for d in documents.list_documents(Principal.system(demo_company.id), runner.id)}
    assert uploaded == {"pan_card": ("uploaded", ["pan.pdf"]), "bank_statement": ("requested", [])}
