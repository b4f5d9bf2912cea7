"""Checklist templates and runner checklists: items, roles, who/when, completing the node once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from app.extensions import db
from app.models import Checklist
from app.services import checklists, runners
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from tests.inbox.conftest import CHECKLIST, Team, activity_of, chain

ITEMS = [{"title": "Bank statement checked"},
         {"key": "field_visit", "title": "Field visit done", "roles": ["admin"]},
         {"title": "Nice to have", "required": False}]


@pytest.fixture
def template(team: Team):
    return checklists.create_template(team.maker, name="Disbursal", items=ITEMS)


@pytest.fixture
def checklist_runner(team: Team, template, make_flow, start):
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    return runner, checklists.checklist_at_stage(team.maker, runner.id)


def test_templates_are_validated_and_keys_made_from_titles(team: Team, template):
    assert [i["key"] for i in template.items] == ["bank_statement_checked", "field_visit", "nice_to_have"]
    assert template.items[1]["roles"] == ["admin"] and template.items[2]["required"] is False
    with pytest.raises(ValidationFailed) as failure:
        checklists.create_template(team.maker, name="Bad",
                                   items=[{"title": ""}, {"title": "x", "roles": ["boss"]}])
    assert {e.path for e in failure.value.errors} == {"items.0.title", "items.1.roles"}
    with pytest.raises(Conflict):
        checklists.create_template(team.maker, name="Disbursal", items=ITEMS)
    with pytest.raises(PermissionDenied):
        checklists.create_template(team.officer(0), name="Mine", items=ITEMS)


def test_a_template_update_leaves_open_checklists_alone_and_delete_waits_for_them(
        team: Team, template, checklist_runner):
    _, checklist = checklist_runner
    checklists.update_template(team.maker, template.id, items=[{"title": "Only one"}])
    assert [i.key for i in checklists.get_checklist(team.maker, checklist.id).items] == [
        "bank_statement_checked", "field_visit", "nice_to_have"]
    with pytest.raises(Conflict, match="used by"):  # its design still opens checklists from it
        checklists.delete_template(team.maker, template.id)
    assert checklists.get_template(team.maker, template.id).items == [
        {"key": "only_one", "title": "Only one", "required": True, "roles": []}]
    assert checklists.get_checklist(team.maker, checklist.id).status == "open"


def test_the_node_completes_only_when_every_required_item_is_done(team: Team, checklist_runner):
    runner, checklist = checklist_runner
    assert checklist.stage == "disbursal" and checklist.title == "Before disbursal"
    officer = team.officer(0)
    ticked = checklists.set_item(officer, checklist.id, "bank_statement_checked", done=True)
    item = ticked.items[0]
    assert item.done and item.done_by_name == "Officer 1" and item.done_at is not None
    assert runners.get_runner(officer, runner.id).current_nodes == ["disbursal_checks"]
    with pytest.raises(PermissionDenied):  # field_visit is for admins only
        checklists.set_item(officer, checklist.id, "field_visit", done=True)
    done = checklists.set_item(team.maker, checklist.id, "field_visit", done=True)
    assert done.status == "completed" and done.completed_at is not None
    assert runners.get_runner(officer, runner.id).status == "succeeded"  # complete -> done
    assert any(a.kind == "checklist.item" and "Officer 1" in (a.actor or "") for a in activity_of(runner.id))
    with pytest.raises(Conflict):
        checklists.set_item(officer, checklist.id, "nice_to_have", done=True)


def test_unticking_keeps_the_node_waiting(team: Team, checklist_runner):
    _, checklist = checklist_runner
    checklists.set_item(team.officer(0), checklist.id, "bank_statement_checked", done=True)
    undone = checklists.set_item(team.officer(0), checklist.id, "bank_statement_checked", done=False)
    assert not undone.items[0].done and undone.items[0].done_by is None


def test_viewers_and_other_companies_cannot_tick(team: Team, checklist_runner, make_company, make_user):
    _, checklist = checklist_runner
    with pytest.raises(PermissionDenied):
        checklists.set_item(Principal.for_user(team.viewer), checklist.id, "bank_statement_checked",
                            done=True)
    stranger = Principal.for_user(make_user(make_company(), roles=("admin",)))
    with pytest.raises(NotFound):
        checklists.set_item(stranger, checklist.id, "bank_statement_checked", done=True)


def test_inbox_tasks_list_checklists_with_items_my_roles_can_tick(team: Team, checklist_runner):
    _, checklist = checklist_runner
    assert [c.id for c in checklists.open_tasks(team.officer(0))] == [checklist.id]
    checklists.set_item(team.officer(0), checklist.id, "bank_statement_checked", done=True)
    assert checklists.open_tasks(team.officer(0)) == []  # only the admin's item is left
    assert [c.id for c in checklists.open_tasks(team.maker)] == [checklist.id]


def test_inline_items_work_without_a_template(team: Team, make_flow, start):
    node = {**CHECKLIST, "config": {"title": "Quick", "items": [{"key": "a", "label": "A"}]}}
    design = chain(node)
    design["nodes"][1]["config"] = {"title": "Quick", "items": [{"key": "a", "label": "A"}]}
    runner = start(make_flow(design))
    checklist = checklists.checklist_at_stage(team.maker, runner.id, "disbursal")
    assert [(i.key, i.title, i.required) for i in checklist.items] == [("a", "A", True)]


def test_a_checklist_node_without_a_stage_is_found_at_the_runners_stage(team: Team, make_flow, start):
    form = {"name": "underwriting_notes", "type": "form", "stage": "underwriting", "config": {},
            "permissions": [{"roles": ["admin"], "actions": ["submit"]}],
            "edges": [{"action": "submit", "type": "goto", "target_node": "NEXT"}]}
    stageless = {key: value for key, value in CHECKLIST.items() if key != "stage"}
    design = chain(form, stageless)
    design["nodes"][2]["config"] = {"title": "Quick", "items": [{"key": "a", "label": "A"}]}
    runner = start(make_flow(design))
    runners.execute_runner(team.maker, runner.id, action="submit", data={})
    # The runner keeps the stage it had at the stageless node: its checklist is found there.
    assert runners.get_runner(team.maker, runner.id).stage == "underwriting"
    found = checklists.checklist_at_stage(team.maker, runner.id)
    assert (found.stage, found.title) == ("underwriting", "Quick")


def test_concurrent_last_ticks_complete_the_node_exactly_once(app: Flask, team: Team, make_flow, start):
    template = checklists.create_template(team.maker, name="Two", items=[{"title": "One"}, {"title": "Two"}])
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    checklist = checklists.checklist_at_stage(team.maker, runner.id)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def tick(actor: Principal, key: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                checklists.set_item(actor, checklist.id, key, done=True)
            except Exception as error:  # reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick, args=(team.officer(0), "one")),
               threading.Thread(target=tick, args=(team.officer(1), "two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Checklist, checklist.id).status == "completed"
    assert runners.get_runner(team.maker, runner.id).status == "succeeded"
    actions = [a for a in activity_of(runner.id) if a.kind == "runner.action"]
    assert len(actions) == 1
