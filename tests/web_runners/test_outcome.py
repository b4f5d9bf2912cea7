"""A runner's outcome: the end node it reached sets its stage, and that node's message is shown as the
outcome on the list, the runner page and in the API's answers."""

from __future__ import annotations

from app.extensions import db
from app.services import runners

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


def test_a_failed_runner_shows_its_reason_not_an_outcome(client, lender, sign_in):
    failing = {**DECIDED, "nodes": [*DECIDED["nodes"][:3], {
        "name": "rejected", "type": "end", "stage": "Decision",
        "config": {"status": "failed", "message": "Not eligible"}}]}
    runner = lender.start(lender.flow(failing))
    runners.execute_runner(lender.admin, runner.id, action="reject", data={})
    sign_in("viewer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert 'id="runner-status">failed<' in page
    assert '<dt>Reason</dt><dd class="reason" id="runner-outcome">Not eligible</dd>' in page
    assert "<dt>Stage</dt><dd>Decision</dd>" in page
