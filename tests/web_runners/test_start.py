"""Start a runner from the browser: operators pick a flow and give start data; refusals keep the text."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.models import DesignVersion, Runner
from app.services import flows
from tests.web_runners.conftest import WAITS

# start checks its input: an amount is required and must be a whole number.
STRICT = {"name": "Strict", "start_node": "start", "nodes": [
    {"name": "start", "type": "start",
     "config": {"schema": {"type": "object", "required": ["amount"],
                           "properties": {"amount": {"type": "integer"}}}},
     "edges": [{"type": "goto", "target_node": "apply"}]},
    *WAITS["nodes"][1:]]}


def runners_of(flow) -> list[Runner]:
    db.session.expire_all()
    return list(db.session.scalars(select(Runner).where(Runner.flow_id == flow.id)))


def test_an_officer_starts_a_runner_and_lands_on_its_page(client, lender, sign_in):
    flow = lender.flow(WAITS)
    csrf = sign_in("credit_officer")
    index = client.get("/runners/").get_data(as_text=True)
    assert 'href="/runners/new">Start a runner</a>' in index
    form = client.get(f"/runners/new?flow={flow.id}").get_data(as_text=True)
    assert f'<option selected value="{flow.id}">Home loans</option>' in form  # pre-selected

    response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id,
                                                 "payload": '{"amount": 500000}'})
    [runner] = runners_of(flow)
    assert response.status_code == 303 and response.headers["Location"] == f"/runners/{runner.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Runner {runner.ref_id} started." in page
    assert 'id="runner-status">waiting<' in page and "Waiting for" in page
    assert runner.created_by == lender.users["credit_officer"].id


def test_only_flows_with_a_current_version_are_offered(client, lender, sign_in):
    lender.flow(WAITS, name="Home loans")
    draft = flows.create_flow(lender.admin, name="Draft loans")  # no version at all
    csrf = sign_in("admin")
    page = client.get("/runners/new").get_data(as_text=True)
    assert ">Home loans</option>" in page and "Draft loans" not in page
    refused = client.post("/runners/new", data={"csrf_token": csrf, "flow": draft.id, "payload": "{}"})
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    assert runners_of(draft) == []


def test_bad_json_keeps_the_text_and_says_where(client, lender, sign_in):
    flow = lender.flow(WAITS)
    csrf = sign_in("admin")
    typed = '{"amount": 500000,}'
    response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("This is not valid JSON: Expecting property name enclosed in double quotes "
            "(line 1, column 19).") in page
    assert escape(typed) in page
    listed = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": "[1, 2]"})
    assert listed.status_code == 422
    assert "Give a JSON object, such as {&#34;amount&#34;: 500000}." in listed.get_data(as_text=True)
    assert "[1, 2]" in listed.get_data(as_text=True)
    assert runners_of(flow) == []


def test_the_start_nodes_schema_refusal_shows_at_the_field(client, lender, sign_in):
    flow = lender.flow(STRICT, name="Strict loans")
    csrf = sign_in("admin")
    typed = '{"amount": "five lakh"}'
    response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "amount: &#39;five lakh&#39; is not of type &#39;integer&#39;" in page
    assert escape(typed) in page
    assert runners_of(flow) == []


def test_a_current_version_that_no_longer_validates_is_a_message(client, lender, sign_in):
    flow = lender.flow(WAITS)
    csrf = sign_in("admin")
    version = db.session.get(DesignVersion, flow.current_design_id)
    # As if the stored version were broken behind the app's back (the designer never saves this).
    version.document, version.checksum = {**version.document, "start_node": "nowhere"}, "0" * 64
    db.session.commit()
    response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": "{}"})
    assert response.status_code == 409
    assert "This design version does not validate" in response.get_data(as_text=True)
    assert runners_of(flow) == []


def test_viewers_cannot_start_runners(client, lender, sign_in):
    flow = lender.flow(WAITS)
    csrf = sign_in("viewer")
    assert "Start a runner" not in client.get("/runners/").get_data(as_text=True)
    assert client.get("/runners/new").status_code == 403
    assert client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id,
                                             "payload": "{}"}).status_code == 403
    assert runners_of(flow) == []


def test_the_designer_links_to_start_a_runner_of_a_current_flow(client, lender, sign_in):
    flow = lender.flow(WAITS)
    draft = flows.create_flow(lender.admin, name="Draft loans")
    sign_in("admin")
    assert f'href="/runners/new?flow={flow.id}">Start a runner' in client.get(
        f"/designs/flows/{flow.id}").get_data(as_text=True)
    assert "Start a runner" not in client.get(f"/designs/flows/{draft.id}").get_data(as_text=True)


def test_start_data_the_store_cannot_keep_is_refused_at_the_field(client, lender, sign_in):
    """NaN and \\u0000 parse in Python but no database column or browser keeps them."""
    flow = lender.flow(WAITS)
    csrf = sign_in("admin")
    for typed in ('{"amount": NaN}', '{"name": "A\\u0000"}'):
        response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "This cannot be stored:" in html
        assert escape(typed) in html
