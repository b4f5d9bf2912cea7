"""Closing a flow to customers in a real browser: the Close button asks first, with the count."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.models import Customer, Flow
from app.services import flows, runners
from app.services.principal import Principal
from tests.conftest import browser_sign_in


@pytest.mark.browser
def test_close_asks_first_and_cancel_keeps_the_flow_open(live_server: str, chromium: Any, admin, actor,
                                                        make_design) -> None:
    from playwright.sync_api import expect

    flow = flows.set_customer_onboarding(actor, make_design().flow_id, open_=True)
    customer = Customer(company_id=actor.company_id, mobile="+919800000001")
    db.session.add(customer)
    db.session.commit()
    as_customer = Principal("customer", customer.id, actor.company_id, frozenset({"customer"}), "C")
    runners.create_runner(as_customer, flow_id=flow.id, customer_id=customer.id)

    page = browser_sign_in(chromium, live_server, admin.email)
    page.goto(f"{live_server}/designs/flows/{flow.id}")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Close to customers").click()
    expect(page.get_by_role("button", name="Close to customers")).to_be_visible()
    assert asked == ["Close “Personal loan” to customers? New applications cannot start. "
                     "1 unfinished customer application can still be finished."]
    db.session.expire_all()
    assert db.session.get(Flow, flow.id).customer_onboarding is True

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close to customers").click()
    expect(page.get_by_text("is closed to customers: new applications cannot start")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Flow, flow.id).customer_onboarding is False
    assert page.problems == []
