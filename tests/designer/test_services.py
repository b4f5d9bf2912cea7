"""The small flows-service functions the designer pages read: summaries, versions, locks, the starter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.engine import validate
from app.extensions import db
from app.models import AuditEntry
from app.services import flow_queries, flows
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal


def test_a_new_flow_starts_with_a_valid_current_start_to_end_design(actor):
    design = flows.create_flow_with_first_design(actor, name="Gold loan", description="Jewellery")
    flow = flows.get_flow(actor, design.flow_id)
    assert (flow.name, flow.slug, flow.description) == ("Gold loan", "gold-loan", "Jewellery")
    assert flow.current_design_id == design.id and design.version == 1 and design.is_valid
    assert validate(design.document) == []
    assert [(n["name"], n["type"]) for n in design.document["nodes"]] == [("start", "start"), ("end", "end")]


def test_flow_names_are_unique_in_a_company_whatever_the_case_and_spacing(actor, make_user):
    gold = flows.create_flow(actor, name="Gold loan")
    with pytest.raises(Conflict) as caught:
        flows.create_flow(actor, name=" GOLD  loan")
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("name", "There is already a flow named “Gold loan”; choose another name.")]
    car = flows.create_flow(actor, name="Car loan")
    with pytest.raises(Conflict):
        flows.update_flow(actor, car.id, name="gold Loan")
    assert flows.update_flow(actor, gold.id, name="Gold Loan").name == "Gold Loan"  # its own name
    other = Principal.for_user(make_user(roles=("admin",)))  # another company
    assert flows.create_flow(other, name="Gold loan").slug == "gold-loan"
    assert sorted(f.name for f in flows.list_flows(actor).items) == ["Car loan", "Gold Loan"]


def test_a_new_flow_is_audited_and_its_slug_folds_accents(actor):
    flow = flows.create_flow(actor, name="Pérsonal lóan")
    assert flow.slug == "personal-loan"  # not "p-rsonal-l-an"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "flow.created"))
    assert (entry.target_id, entry.details) == (flow.id, {"name": "Pérsonal lóan", "slug": "personal-loan"})


def test_a_name_taken_between_the_check_and_the_commit_is_refused_by_the_database(actor, monkeypatch):
    """Two admins creating "Gold loan" at once both pass the service's check; the database's unique
    `name_key` lets one commit and the other hears about the name, not a bare integrity error."""
    flows.create_flow(actor, name="Gold loan")
    car = flows.create_flow(actor, name="Car loan")
    real = flows._name_taken
    calls = []

    def check_passes_once(*args, **kwargs):  # the other admin's commit lands right after our check
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(flows, "_name_taken", check_passes_once)
    with pytest.raises(Conflict) as caught:
        flows.create_flow(actor, name="gold  LOAN")
    assert [e.path for e in caught.value.errors] == ["name"]
    calls.clear()
    with pytest.raises(Conflict) as caught:
        flows.update_flow(actor, car.id, name="GOLD loan")
    assert [e.path for e in caught.value.errors] == ["name"]
    assert sorted(f.name for f in flows.list_flows(actor).items) == ["Car loan", "Gold loan"]


def test_summaries_count_versions_and_name_the_current_one(actor, make_design):
    first = make_design(flow_name="Gold loan")
    flow = flows.get_flow(actor, first.flow_id)
    make_design({"nodes": []}, flow=flow)
    second_valid = make_design(flow=flow)
    flows.mark_current_design(actor, second_valid.id)
    flows.create_flow(actor, name="Empty")
    summaries = {s.flow.name: s for s in flow_queries.list_flow_summaries(actor).items}
    assert (summaries["Gold loan"].versions, summaries["Gold loan"].current_version) == (3, 3)
    assert (summaries["Empty"].versions, summaries["Empty"].current_version) == (0, None)


def test_versions_come_newest_first_with_runner_counts(actor, make_design, lock):
    first = make_design()
    flow = flows.get_flow(actor, first.flow_id)
    second = make_design(flow=flow)
    lock(first)
    lock(first)
    versions = flow_queries.list_versions(actor, flow.id)
    assert [(v.design.id, v.runners, v.locked, v.is_current) for v in versions] == [
        (second.id, 0, False, False), (first.id, 2, True, True)]
    assert flow_queries.has_runners(actor, first.id) and not flow_queries.has_runners(actor, second.id)


def test_another_company_sees_none_of_it(actor, make_design, make_user):
    design = make_design()
    stranger = Principal.for_user(make_user(roles=("admin",)))
    with pytest.raises(NotFound):
        flow_queries.list_versions(stranger, design.flow_id)
    with pytest.raises(NotFound):
        flow_queries.has_runners(stranger, design.id)
    assert flow_queries.list_flow_summaries(stranger).items == []
    with pytest.raises(PermissionDenied):
        flows.create_flow_with_first_design(Principal.for_user(make_user(roles=("viewer",))), name="No")


def test_a_refused_update_leaves_the_saved_version_as_it_was(actor, make_design):
    design = make_design()
    with pytest.raises(ValidationFailed):
        flows.update_design(actor, design.id, document={"nodes": []}, name="broken")
    again = flows.get_design(actor, design.id)
    assert again.is_valid and again.name != "broken" and len(again.document["nodes"]) == 3


def test_checking_an_unsaved_document_uses_the_saved_versions_rules_and_stores_nothing(actor, make_design,
                                                                                       make_user):
    design = make_design()
    edited = {**design.document, "nodes": [*design.document["nodes"], {
        "name": "child", "type": "subflow", "config": {"flow": "no-such-flow"},
        "edges": [{"type": "goto", "target_node": "done"}]}]}
    problems = flows.check_design_document(actor, design.id, edited)
    # The subflow reference is validate_design's own rule, not only the engine's.
    assert ("missing_flow", "child") in [(p.code, p.node) for p in problems]
    assert ("unreachable", "child") in [(p.code, p.node) for p in problems]
    assert flows.get_design(actor, design.id).document == design.document
    with pytest.raises(NotFound):
        flows.check_design_document(Principal.for_user(make_user(roles=("admin",))), design.id, edited)


@pytest.mark.parametrize("version", [4, 99999999999999999999999, 0])
def test_a_version_naming_a_sub_flow_that_is_not_there_is_not_valid_nor_made_current(actor, make_design,
                                                                                     version):
    from tests.api.conftest import with_subflow

    flows.create_flow_with_first_design(actor, name="Child")  # version 1 only
    design = make_design(with_subflow("child", version=version))
    # Validate, the Valid tag and Make current say the same (a huge version is no 500 either).
    assert [(p.code, p.node) for p in flows.validate_design(actor, design.id)] == [("missing_flow", "child")]
    assert design.is_valid is False
    with pytest.raises(ValidationFailed, match="Only a valid design can be current"):
        flows.mark_current_design(actor, design.id)
    assert flows.get_flow(actor, design.flow_id).current_design_id != design.id
    fixed = flows.create_design(actor, flow_id=design.flow_id, document=with_subflow("child", version=1))
    assert fixed.is_valid and flows.mark_current_design(actor, fixed.id).id == fixed.id
