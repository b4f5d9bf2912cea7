"""A checklist template a design still opens checklists from cannot be deleted; Validate reports a
design naming a template that does not exist."""

from __future__ import annotations

import pytest

from app.services import checklists, flows
from app.services.errors import Conflict
from tests.api.conftest import assert_problem
from tests.inbox.conftest import CHECKLIST, Team, chain
from tests.inbox.test_api import basic


def test_a_template_in_use_is_not_deleted_and_one_no_longer_used_is(client, team: Team, make_flow):
    template = checklists.create_template(team.maker, name="Disbursal", items=[{"title": "Bank"}])
    flow = make_flow(chain(CHECKLIST, template_id=template.id))
    refused = client.delete(f"/v1/rego/checklist-templates/{template.id}/", headers=basic(team.admin))
    assert "used by" in assert_problem(refused, 409)["detail"]
    assert checklists.get_template(team.maker, template.id).name == "Disbursal"

    # The flow moves to inline items; nothing unfinished runs the old version: now it may go.
    inline = chain(CHECKLIST)
    inline["nodes"][1]["config"] = {"items": [{"key": "bank", "label": "Bank"}]}
    newer = flows.create_design(team.maker, flow_id=flow.id, document=inline)
    flows.mark_current_design(team.maker, newer.id)
    assert client.delete(f"/v1/rego/checklist-templates/{template.id}/",
                         headers=basic(team.admin)).status_code == 204


def test_runners_still_on_an_old_version_keep_its_template(team: Team, make_flow, start):
    template = checklists.create_template(team.maker, name="Disbursal", items=[{"title": "Bank"}])
    flow = make_flow(chain(CHECKLIST, template_id=template.id))
    start(flow)  # waits at the checklist, on version 1
    inline = chain(CHECKLIST)
    inline["nodes"][1]["config"] = {"items": [{"key": "bank", "label": "Bank"}]}
    flows.mark_current_design(team.maker, flows.create_design(team.maker, flow_id=flow.id,
                                                              document=inline).id)
    with pytest.raises(Conflict, match="v1"):
        checklists.delete_template(team.maker, template.id)


def test_a_design_naming_an_unknown_template_does_not_validate(team: Team, make_flow):
    flow = make_flow(chain(CHECKLIST))
    document = chain(CHECKLIST, template_id="00000000-0000-4000-8000-000000000000")
    design = flows.create_design(team.maker, flow_id=flow.id, document=document)
    problems = flows.validate_design(team.maker, design.id)
    assert [(p.code, p.field) for p in problems] == [("missing_template", "config.template_id")]
