"""Move a waiting runner on from its page: operators submit an action with data at a waiting node."""

from __future__ import annotations

from markupsafe import escape

from app.extensions import db
from app.models import ApprovalRequest
from app.services import approvals, runners, stores
from app.web.runners.start_forms import node_prefix
from tests.inbox.conftest import APPROVAL, DOCUMENTS, chain
from tests.web_runners.conftest import WAITS

# apply asks for an amount in whole rupees; admins may try any action, officers only submit.
STRICT = {**WAITS, "nodes": [
    WAITS["nodes"][0],
    {**WAITS["nodes"][1],
     "config": {"schema": {"type": "object", "required": ["amount"],
                           "properties": {"amount": {"type": "integer"}}}},
     "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["submit"]},
                     {"roles": ["admin"], "actions": ["*"]}],
     "edges": [*WAITS["nodes"][1]["edges"], {"action": "send_back", "type": "goto", "target_node": "apply"}]},
    WAITS["nodes"][2]]}
# An approval node whose permissions name officers: the engine still refuses their direct actions.
OPEN_APPROVAL = chain({**APPROVAL, "permissions": [{"roles": ["credit_officer"],
                                                    "actions": ["approve", "reject"]}]})


def act(client, runner, csrf: str, *, node: str, action: str | None, payload: str = "{}"):
    prefix = node_prefix(node)
    data = {"csrf_token": csrf, "node": node, f"{prefix}-payload": payload}
    if action is not None:
        data[f"{prefix}-action"] = action
    return client.post(f"/runners/{runner.id}/act", data=data)


def fresh(lender, runner):
    db.session.expire_all()
    return runners.get_runner(lender.admin, runner.id)


def test_an_officer_submits_at_the_waiting_node(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    csrf = sign_in("credit_officer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "Waiting for" in page and "You may submit: submit." in page
    assert f'name="{node_prefix("apply")}-action" value="submit">submit' in page
    live = client.get(f"/runners/{runner.id}/live").get_data(as_text=True)
    assert "<textarea" not in live  # the polled fragment never replaces what someone types

    response = act(client, runner, csrf, node="apply", action="submit", payload='{"name": "Asha"}')
    assert response.status_code == 303 and response.headers["Location"] == f"/runners/{runner.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Submitted &#39;submit&#39; at apply: {runner.ref_id} is now succeeded." in html
    assert 'id="runner-status">succeeded<' in html and "Waiting for" not in html
    assert "submitted &#39;submit&#39;." in html  # the activity names who did it
    assert fresh(lender, runner).status == "succeeded"
    assert stores.runner_store(lender.admin, runner.id).data["application"] == {"name": "Asha"}


def test_the_nodes_schema_refusal_shows_at_the_field_and_keeps_the_text(client, lender, sign_in):
    runner = lender.start(lender.flow(STRICT))
    csrf = sign_in("admin")
    typed = '{"amount": "ten lakh"}'
    response = act(client, runner, csrf, node="apply", action="submit", payload=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # Said once, under the data; the alert above points there.
    assert html.count("amount: &#39;ten lakh&#39; is not of type &#39;integer&#39;") == 1
    assert 'role="alert">apply did not take this data: see below it.</p>' in html
    assert escape(typed) in html
    bad = act(client, runner, csrf, node="apply", action="submit", payload='{"amount": 5')
    assert bad.status_code == 422 and "This is not valid JSON" in bad.get_data(as_text=True)
    assert escape('{"amount": 5') in bad.get_data(as_text=True)
    wrong = act(client, runner, csrf, node="apply", action="approve", payload='{"amount": 5}')
    assert wrong.status_code == 422
    assert "it accepts: send_back, submit" in wrong.get_data(as_text=True)
    none = act(client, runner, csrf, node="apply", action=None)
    assert none.status_code == 422 and "Pick an action." in none.get_data(as_text=True)
    assert fresh(lender, runner).current_nodes == ["apply"]


def test_an_action_the_node_does_not_let_you_take_is_refused(client, lender, sign_in):
    runner = lender.start(lender.flow(STRICT))
    csrf = sign_in("credit_officer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    # Only what the officer's roles are permitted is offered; the rest is named, not a button.
    assert 'value="submit">submit' in page and 'value="send_back"' not in page
    assert "You may submit: submit (the node also takes send_back, not permitted to your roles)." in page
    response = act(client, runner, csrf, node="apply", action="send_back", payload='{"amount": 5}')
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert ("You may not do that here: &#39;send_back&#39; at node &#39;apply&#39; is not permitted "
            "to your roles (credit_officer).") in html
    assert lender.users["credit_officer"].id not in html  # the message names roles, never an id
    assert escape('{"amount": 5}') in html
    assert fresh(lender, runner).status == "waiting"


# about_you is the customer's to fill in (their onboarding pages); staff only watch it.
CUSTOMER_FORM = {**WAITS, "nodes": [
    WAITS["nodes"][0],
    {**WAITS["nodes"][1], "name": "about_you",
     "permissions": [{"roles": ["customer"], "actions": ["submit"]}]},
    WAITS["nodes"][2]]}
CUSTOMER_FORM["nodes"][0] = {**WAITS["nodes"][0], "edges": [{"type": "goto", "target_node": "about_you"}]}


def test_a_node_that_takes_nothing_from_staff_offers_them_nothing(client, auth, lender, sign_in):
    runner = lender.start(lender.flow(CUSTOMER_FORM))
    for role in ("admin", "credit_officer"):
        if role != "admin":
            auth.logout()
        csrf = sign_in(role)
        page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
        assert "Waiting for" in page and "about_you" in page
        assert ("Nothing here is yours to submit: its actions (submit) are not permitted to your "
                f"roles ({role}).") in page
        assert f'name="{node_prefix("about_you")}-action"' not in page  # no button to a 403
        assert f'{node_prefix("about_you")}-payload' not in page

    typed = '{"name": "From a stale tab"}'
    response = act(client, runner, csrf, node="about_you", action="submit", payload=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert ("You may not do that here: &#39;submit&#39; at node &#39;about_you&#39; is not permitted "
            "to your roles (credit_officer).") in html
    assert lender.users["credit_officer"].id not in html
    assert "about_you <small>(nothing there is yours to submit)</small>" in html and escape(typed) in html
    assert fresh(lender, runner).current_nodes == ["about_you"]


def test_acting_on_a_runner_that_moved_on_is_a_conflict(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    csrf = sign_in("admin")
    client.get(f"/runners/{runner.id}")  # the page is open ...
    runners.execute_runner(lender.admin, runner.id, action="submit", data={})  # ... someone else moves it
    typed = '{"name": "Second tab"}'
    response = act(client, runner, csrf, node="apply", action="submit", payload=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The runner has moved on: runner is succeeded; it takes no actions now." in html
    assert "apply <small>(no longer waiting)</small>" in html and escape(typed) in html
    assert 'id="runner-status">succeeded<' in html


def test_approval_nodes_are_worked_in_the_inbox_not_here(client, lender, sign_in):
    runner = lender.start(lender.flow(OPEN_APPROVAL))  # the admin asked: the officer may decide
    approval = approvals.get_by_resource(lender.admin, "runner", runner.id)
    csrf = sign_in("credit_officer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert f'href="/inbox/approvals/{approval.id}">Open it in the inbox</a>' in page
    assert "<h3>credit_approval <small>(approval, stage decision)</small></h3>" in page  # no raw ${…} title
    assert f'name="{node_prefix("credit_approval")}-action"' not in page  # no free-form form

    response = act(client, runner, csrf, node="credit_approval", action="approve", payload='{"ok": true}')
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert ("You may not do that here: node &#39;credit_approval&#39; is decided through its approval "
            "request (the inbox, or the approvals API)") in html
    assert "no longer waiting" not in html and f'{node_prefix("credit_approval")}-payload' not in html
    assert fresh(lender, runner).current_nodes == ["credit_approval"]
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, approval.id).status == "pending"


def test_a_document_step_is_not_submitted_from_the_runner_page(client, lender, sign_in):
    runner = lender.start(lender.flow(chain(DOCUMENTS)))  # its permissions name officers: no matter
    csrf = sign_in("credit_officer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "It waits for the customer's documents" in page
    assert f'name="{node_prefix("kyc_documents")}-action"' not in page

    response = act(client, runner, csrf, node="kyc_documents", action="submit")
    assert response.status_code == 403
    assert "once every required one has a file" in response.get_data(as_text=True)
    assert fresh(lender, runner).current_nodes == ["kyc_documents"]


def test_viewers_never_see_or_use_the_forms(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    csrf = sign_in("viewer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "Waiting for" not in page and "<textarea" not in page
    assert act(client, runner, csrf, node="apply", action="submit").status_code == 403
    assert fresh(lender, runner).status == "waiting"


def test_another_companys_runner_is_not_found(client, lender, sign_in, make_company, make_user):
    from app.services.principal import Principal
    from tests.web_runners.conftest import Lender

    other = Lender(make_company("Other Lending", "other"), {})
    other.users["admin"] = make_user(other.company, roles=("admin",))
    theirs = runners.create_runner(Principal.for_user(other.users["admin"]),
                                   flow_id=other.flow(WAITS).id).runner
    csrf = sign_in("admin")
    assert act(client, theirs, csrf, node="apply", action="submit").status_code == 404
    db.session.expire_all()
    assert runners.get_runner(Principal.for_user(other.users["admin"]), theirs.id).status == "waiting"


# apply answers a quote (a return edge: the runner stays) before anyone submits.
QUOTES = {**WAITS, "nodes": [
    WAITS["nodes"][0],
    {**WAITS["nodes"][1],
     "permissions": [{"roles": ["admin"], "actions": ["quote", "submit"]}],
     "edges": [{"action": "quote", "type": "return",
                "return": {"transformer": "jmes", "data": {"quote": {"emi": "data.amount"}}}},
               *WAITS["nodes"][1]["edges"]]},
    WAITS["nodes"][2]]}


def test_an_action_on_a_return_edge_shows_its_answer(client, lender, sign_in):
    """A quote is asked for its answer: the page only said the runner 'is now waiting'."""
    runner = lender.start(lender.flow(QUOTES))
    csrf = sign_in("admin")
    response = act(client, runner, csrf, node="apply", action="quote", payload='{"amount": 1200}')
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"Submitted &#39;quote&#39; at apply. It answered: {{&#34;quote&#34;: {{&#34;emi&#34;: 1200}}}}. "
            f"{runner.ref_id} stays waiting there; the answer is merged into its store.") in html
    assert fresh(lender, runner).current_nodes == ["apply"]


# start -> split -> (pause: a timer, hook: a callback) -> both (join) -> done
BRANCHES = {"name": "Branches", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "split"}]},
    {"name": "split", "type": "parallel", "config": {"join": "both"},
     "edges": [{"type": "goto", "target_node": "pause"}, {"type": "goto", "target_node": "hook"}]},
    {"name": "pause", "type": "timer", "config": {"duration": 3600},
     "edges": [{"type": "goto", "target_node": "both"}]},
    {"name": "hook", "type": "callback", "edges": [{"type": "goto", "target_node": "both"}]},
    {"name": "both", "type": "join", "edges": [{"type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end"}]}


def test_nodes_that_wait_on_their_own_say_what_for(client, lender, sign_in):
    """ "It waits for timer work to finish" told an officer nothing about when it moves on."""
    runner = lender.start(lender.flow(BRANCHES))
    sign_in("admin")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "It waits for its timer: the runner moves on by itself when it is due;" in html
    assert "It waits for an outside system to call back (Runner Callback Handler in the API);" in html
    assert "work to finish" not in html
