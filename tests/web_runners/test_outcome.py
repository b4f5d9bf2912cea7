"""A runner's outcome: the end node it reached sets its stage, and that node's message is shown as the
outcome on the list, the runner page and in the API's answers."""

from __future__ import annotations

from app.extensions import db
from app.services import runners
from tests.web_runners.conftest import FAILS

# A loan reviewed at `review` (stage Review) and decided at an end node (stage Decision). Declining it
# is a success of the process, with "Not approved" as its outcome.
DECIDED = {"name": "Decided", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "review"}]},
    {"name": "review", "type": "form", "stage": "Review",
     "permissions": [{"roles": ["admin", "credit_officer"], "actions": ["approve", "reject"]}],
     "edges": [{"action": "approve", "type": "goto", "target_node": "approved"},
               {"action": "reject", "type": "goto", "target_node": "rejected"}]},
    {"name": "approved", "type": "end", "stage": "Decision", "config": {"status": "succeeded"}},
    {"name": "rejected", "type": "end", "stage": "Decision",
     "config": {"status": "succeeded", "message": "Not approved"}}]}


def test_an_end_nodes_message_and_stage_are_the_runners_outcome(client, lender, sign_in, make_token):
    flow = lender.flow(DECIDED, name="Big ticket loan")
    declined, approved = lender.start(flow), lender.start(flow)
    assert declined.stage == "Review"
    runners.execute_runner(lender.admin, declined.id, action="reject", data={})
    runners.execute_runner(lender.admin, approved.id, action="approve", data={})
    db.session.expire_all()
    stored = runners.get_runner(lender.admin, declined.id)
    assert (stored.status, stored.status_reason, stored.stage) == ("succeeded", "Not approved", "Decision")
    plain = runners.get_runner(lender.admin, approved.id)
    assert (plain.status, plain.status_reason, plain.stage) == ("succeeded", None, "Decision")

    sign_in("viewer")
    listed = client.get("/runners/").get_data(as_text=True)
    row = listed[listed.index(declined.ref_id):].split("</tr>")[0]
    assert 'badge--succeeded">succeeded</span> <span class="reason">Not approved</span>' in row
    assert "<td>Decision</td>" in row
    other = listed[listed.index(approved.ref_id):].split("</tr>")[0]
    assert "reason" not in other and "<td>Decision</td>" in other

    page = client.get(f"/runners/{declined.id}").get_data(as_text=True)
    assert '<dt>Outcome</dt><dd class="reason" id="runner-outcome">Not approved</dd>' in page
    assert "<dt>Stage</dt><dd>Decision</dd>" in page
    assert "Outcome" not in client.get(f"/runners/{approved.id}").get_data(as_text=True)

    # The API answers with the same row: status_reason carries the outcome, stage the end's stage.
    _, raw = make_token(lender.company, roles=("viewer",))
    answer = client.get(f"/v1/rego/runners/{declined.id}/", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["status"], body["status_reason"], body["stage"]) == ("succeeded", "Not approved",
                                                                      "Decision")


FAILED_END = {**DECIDED, "nodes": [*DECIDED["nodes"][:3], {
    "name": "rejected", "type": "end", "stage": "Decision",
    "config": {"status": "failed", "message": "Not eligible"}}]}


def test_a_runner_failed_at_its_end_node_shows_its_outcome_and_offers_no_retry(client, lender, sign_in):
    runner = lender.start(lender.flow(FAILED_END))
    runners.execute_runner(lender.admin, runner.id, action="reject", data={})
    csrf = sign_in("admin")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert 'id="runner-status">failed<' in page
    assert '<dt>Outcome</dt><dd class="reason" id="runner-outcome">Not eligible</dd>' in page
    assert "<dt>Stage</dt><dd>Decision</dd>" in page and "<dt>Ended at</dt><dd>rejected</dd>" in page
    assert ("It ended at its end node rejected with the outcome “Not eligible”. There is no failed node "
            "to run again, so it cannot be retried.") in page
    assert ">Retry</button>" not in page and "Retrying runs that node again" not in page
    assert "Cancel this runner" in page  # it is not final: an operator may still close it
    assert 'hx-trigger="every 3s"' not in page  # nothing will move it by itself

    # A stale page's Retry: refused in plain words, and still nothing offered.
    refused = client.post(f"/runners/{runner.id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert '<p class="flash flash-danger">This runner has no failed node to run again.</p>' in html
    assert "with no failed node to retry" not in html and ">Retry</button>" not in html


def test_a_cancel_reason_is_labelled_a_reason_not_an_outcome(client, lender, sign_in):
    runner = lender.start(lender.flow(FAILED_END))
    runners.execute_runner(lender.admin, runner.id, action="reject", data={})
    csrf = sign_in("credit_officer")
    response = client.post(f"/runners/{runner.id}/cancel", follow_redirects=True,
                           data={"csrf_token": csrf, "reason": "Test cleanup"})
    page = response.get_data(as_text=True)
    assert 'id="runner-status">cancelled<' in page
    assert '<dt>Reason</dt><dd class="reason" id="runner-outcome">Test cleanup</dd>' in page
    assert "Outcome" not in page and "Ended at" not in page and "cannot be retried" not in page


def test_a_failure_at_a_node_is_labelled_an_error_and_offers_retry(client, lender, sign_in):
    runner = lender.start(lender.flow(FAILS))
    sign_in("admin")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert '<dt>Error</dt><dd class="reason" id="runner-outcome">start: no &#39;auto&#39; edge' in page
    assert "It failed at start. Retrying runs that node again" in page and ">Retry</button>" in page
    assert "<dt>At</dt><dd>start</dd>" in page and "cannot be retried" not in page
