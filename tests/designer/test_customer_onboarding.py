"""A flow is staff-only until an admin opens it to customers on its Designs page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Customer, Runner
from app.services import flow_queries, flows, runners
from app.services.demo_flows import load_demo_onboarding
from app.services.errors import NotFound
from app.services.principal import Principal
from tests.designer.conftest import post


def test_a_new_flow_is_closed_to_customers_until_an_admin_opens_it(client, signed_in, make_design):
    design = make_design()  # version 1 is valid, so it is current at once
    flow = flows.get_flow(Principal.for_user(signed_in), design.flow_id)
    assert flow.current_design_id == design.id
    page = client.get(f"/designs/flows/{flow.id}").get_data(as_text=True)
    assert "Staff only" in page and "Customers cannot start this flow" in page
    assert client.get(f"/onboard/{flow.slug}").status_code == 404

    response = post(client, f"/designs/flows/{flow.id}/onboarding", {"open": "1"},
                    page=f"/designs/flows/{flow.id}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Customers can now start “{flow.name}” at /onboard/{flow.slug}." in page
    assert f'<a href="/onboard/{flow.slug}"><code>/onboard/{flow.slug}</code></a>' in page
    assert client.get(f"/onboard/{flow.slug}").status_code == 200


def test_closing_stops_the_onboarding_page_and_is_audited(client, signed_in, make_design):
    actor = Principal.for_user(signed_in)
    flow = flows.set_customer_onboarding(actor, make_design().flow_id, open_=True)
    response = post(client, f"/designs/flows/{flow.id}/onboarding", {"open": "0"},
                    page=f"/designs/flows/{flow.id}")
    assert "is closed to customers" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/onboard/{flow.slug}").status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_id == flow.id, AuditEntry.action.like("flow.onboarding%"))
        .order_by(AuditEntry.created_at)).all()
    assert actions == ["flow.onboarding_opened", "flow.onboarding_closed"]


def test_an_incomplete_switch_changes_nothing(client, signed_in, make_design):
    flow_id = make_design().flow_id
    response = post(client, f"/designs/flows/{flow_id}/onboarding", {"open": "yes"},
                    page=f"/designs/flows/{flow_id}")
    assert "Nothing changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert flows.get_flow(Principal.for_user(signed_in), flow_id).customer_onboarding is False


def test_customers_start_runners_only_on_open_flows(actor, make_design):
    flow_id = make_design().flow_id
    customer = Customer(company_id=actor.company_id, mobile="+919800000001")
    db.session.add(customer)
    db.session.commit()
    as_customer = Principal("customer", customer.id, actor.company_id, frozenset({"customer"}), "C")
    with pytest.raises(NotFound):
        runners.create_runner(as_customer, flow_id=flow_id, customer_id=customer.id)
    runners.create_runner(actor, flow_id=flow_id)  # staff and API clients start it as before
    flows.set_customer_onboarding(actor, flow_id, open_=True)
    started = runners.create_runner(as_customer, flow_id=flow_id, customer_id=customer.id).runner
    assert started.customer_id == customer.id


def test_the_demo_loader_opens_its_flow_again_after_an_upgrade_closed_it(make_company):
    company = make_company()
    flow = load_demo_onboarding(company)
    assert flow.customer_onboarding is True
    flows.set_customer_onboarding(Principal.system(company.id), flow.id, open_=False)
    assert load_demo_onboarding(company).customer_onboarding is True


def _customer_runner(actor: Principal, flow_id: str, mobile: str) -> str:
    customer = Customer(company_id=actor.company_id, mobile=mobile)
    db.session.add(customer)
    db.session.commit()
    as_customer = Principal("customer", customer.id, actor.company_id, frozenset({"customer"}), "C")
    return runners.create_runner(as_customer, flow_id=flow_id, customer_id=customer.id).runner.id


@pytest.fixture
def under_way(actor: Principal, make_design) -> str:
    """An open flow with two unfinished customer applications, one finished, one staff runner."""
    flow_id = make_design().flow_id
    flows.set_customer_onboarding(actor, flow_id, open_=True)
    _customer_runner(actor, flow_id, "+919800000001")
    _customer_runner(actor, flow_id, "+919800000002")
    done = _customer_runner(actor, flow_id, "+919800000003")
    runners.execute_runner(actor, done, action="submit", data={}, node="apply")
    runners.create_runner(actor, flow_id=flow_id)  # staff's own: not a customer application
    return flow_id


def test_counting_unfinished_customer_applications(actor, under_way, make_design):
    statuses = sorted(db.session.execute(select(Runner.customer_id.is_not(None), Runner.status)).tuples())
    assert statuses == [(False, "waiting"), (True, "succeeded"), (True, "waiting"), (True, "waiting")]
    assert flow_queries.count_unfinished_customer_runners(actor, under_way) == 2
    flows.set_customer_onboarding(actor, under_way, open_=False)
    assert flow_queries.count_unfinished_customer_runners(actor, under_way) == 2
    assert flow_queries.count_unfinished_customer_runners(actor, make_design(flow_name="Other").flow_id) == 0


def test_close_asks_first_saying_how_many_applications_can_still_finish(client, signed_in, under_way):
    page = client.get(f"/designs/flows/{under_way}").get_data(as_text=True)
    assert ('data-confirm="Close “Personal loan” to customers? New applications cannot start. '
            '2 unfinished customer applications can still be finished."') in page
    assert "Closing stops new applications. 2 unfinished customer applications can still be finished." in page

    response = post(client, f"/designs/flows/{under_way}/onboarding", {"open": "0"},
                    page=f"/designs/flows/{under_way}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("is closed to customers: new applications cannot start at /onboard/personal-loan. "
            "2 unfinished customer applications can still be finished.") in page
    assert "not found any more" not in page
    assert ("Customers cannot start this flow; only staff and API clients start its runners. "
            "2 unfinished customer applications can still be finished.") in " ".join(page.split())


def test_close_asks_first_when_nobody_is_part_way_through(client, signed_in, actor, make_design):
    flow = flows.set_customer_onboarding(actor, make_design().flow_id, open_=True)
    page = client.get(f"/designs/flows/{flow.id}").get_data(as_text=True)
    assert ('data-confirm="Close “Personal loan” to customers? New applications cannot start. '
            'No customer has an unfinished application."') in page
    response = post(client, f"/designs/flows/{flow.id}/onboarding", {"open": "0"},
                    page=f"/designs/flows/{flow.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"is closed to customers: new applications cannot start at /onboard/{flow.slug}." in page


def test_closing_keeps_refusing_new_customer_runners_but_not_the_pages_of_unfinished_ones(
        client, actor, under_way):
    flow = flows.set_customer_onboarding(actor, under_way, open_=False)
    with pytest.raises(NotFound):
        _customer_runner(actor, flow.id, "+919800000009")
    # Two customers are part-way: the sign-in page stays up for them (and says why it is there).
    page = client.get(f"/onboard/{flow.slug}")
    assert page.status_code == 200 and "New applications have closed" in page.get_data(as_text=True)
