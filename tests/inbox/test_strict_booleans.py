"""JSON booleans in request bodies are `true` or `false`: "yes" once ticked a checklist item for good."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services import checklists
from tests.api.conftest import assert_problem, error_paths
from tests.inbox.conftest import CHECKLIST, Team, chain
from tests.inbox.test_api import basic


@pytest.mark.parametrize("sent", ["yes", "true", 1, 0, None])
def test_a_checklist_tick_that_is_not_a_json_boolean_is_a_422_and_ticks_nothing(
        client, team: Team, make_flow, start, sent):
    template = checklists.create_template(team.maker, name="Disbursal",
                                          items=[{"title": "Bank account verified"}])
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    officer = basic(team.officers[0])
    opened = client.get(f"/v1/rego/runners/{runner.id}/checklist/", headers=officer).get_json()
    url = f"/v1/rego/checklists/{opened['id']}/items/bank_account_verified/"
    refused = client.put(url, json={"done": sent}, headers=officer)
    assert error_paths(assert_problem(refused, 422)) == {"done"}
    db.session.expire_all()
    after = client.get(f"/v1/rego/checklists/{opened['id']}/", headers=officer).get_json()
    assert after["status"] == "open" and after["items"][0]["done"] is False


def test_other_body_booleans_are_strict_too(client, team: Team):
    admin = basic(team.admin)
    template = client.post("/v1/rego/checklist-templates/", headers=admin, json={
        "name": "Docs", "items": [{"title": "PAN", "required": "yes"}]})
    assert error_paths(assert_problem(template, 422)) == {"items.0.required"}
    document = client.post("/v1/rego/documents/", headers=admin, json={"type": "pan", "required": "yes"})
    assert error_paths(assert_problem(document, 422)) == {"required"}
