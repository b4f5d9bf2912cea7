"""Runner lifecycle through the services: create, execute, executions, activity, cancel."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityEntry, Execution, Store
from app.services import errors, runners
from tests.runners.conftest import form_design


def test_create_waits_at_form_then_submit_finishes(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(_company(flow))
    outcome = runners.create_runner(actor, flow_id=flow.id, data={"source": "test"})
    runner = outcome.runner
    assert runner.status == "waiting"
    assert runner.current_nodes == ["apply"]
    assert runner.stage == "application"
    assert re.fullmatch(r"RUNNER-\d{4}-1", runner.ref_id)
    assert db.session.get(Store, runner.store_id).data == {"source": "test"}

    done = runners.execute_runner(actor, runner.id, action="submit", data={"name": "Asha", "amount": 5})
    assert done.runner.status == "succeeded"
    assert done.runner.current_nodes == []
    store = db.session.get(Store, runner.store_id).data
    assert store["application"] == {"name": "Asha", "amount": 5}
    executions = db.session.scalars(select(Execution).where(Execution.runner_id == runner.id)
                                    .order_by(Execution.started_at, Execution.id)).all()
    assert [(e.node, e.status) for e in executions] == [
        ("start", "succeeded"), ("apply", "succeeded"), ("done", "succeeded")]
    apply = next(e for e in executions if e.node == "apply")
    assert apply.action == "submit" and apply.actor == actor.id
    kinds = db.session.scalars(select(ActivityEntry.kind).where(ActivityEntry.runner_id == runner.id)).all()
    assert {"runner.created", "runner.action", "runner.succeeded"} <= set(kinds)


def _company(flow):
    from app.models import Company

    return db.session.get(Company, flow.company_id)


def test_invalid_form_input_names_fields_and_changes_nothing(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(_company(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    with pytest.raises(errors.ValidationFailed) as caught:
        runners.execute_runner(actor, runner.id, action="submit", data={"name": "", "amount": 0})
    paths = {e.path for e in caught.value.errors}
    assert paths >= {"name", "amount"} or paths >= {"data.name", "data.amount"}
    db.session.expire_all()
    assert runners.get_runner(actor, runner.id).status == "waiting"


def test_unknown_action_lists_accepted_actions(make_flow, officer):
    design = form_design()
    design["nodes"][1]["permissions"] = [{"roles": ["credit_officer"], "actions": ["*"]}]
    flow, _ = make_flow(design)
    actor = officer(_company(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    with pytest.raises(errors.ValidationFailed, match="submit"):
        runners.execute_runner(actor, runner.id, action="approve", data={})


def test_role_without_permission_is_refused(make_flow, officer):
    flow, _ = make_flow(form_design(roles=("admin",)))
    actor = officer(_company(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    with pytest.raises(errors.PermissionDenied):
        runners.execute_runner(actor, runner.id, action="submit", data={"name": "x", "amount": 1})


def test_other_company_cannot_see_or_execute(make_flow, officer, make_company):
    flow, _ = make_flow(form_design())
    runner = runners.create_runner(officer(_company(flow)), flow_id=flow.id).runner
    outsider = officer(make_company())
    with pytest.raises(errors.NotFound):
        runners.get_runner(outsider, runner.id)
    with pytest.raises(errors.NotFound):
        runners.execute_runner(outsider, runner.id, action="submit", data={"name": "x", "amount": 1})
    with pytest.raises(errors.NotFound):
        runners.create_runner(outsider, flow_id=flow.id)


def test_create_and_execute_is_atomic(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(_company(flow))
    with pytest.raises(errors.ValidationFailed):
        runners.create_runner(actor, flow_id=flow.id, action="submit", data={"name": ""})
    from app.models import Runner

    assert db.session.scalars(select(Runner)).all() == []
    ok = runners.create_runner(actor, flow_id=flow.id, action="submit", data={"name": "A", "amount": 2})
    assert ok.runner.status == "succeeded"


def test_ref_ids_count_per_company(make_flow, officer, make_company):
    flow_a, _ = make_flow(form_design())
    flow_b, _ = make_flow(form_design())
    a, b = officer(_company(flow_a)), officer(_company(flow_b))
    refs_a = [runners.create_runner(a, flow_id=flow_a.id).runner.ref_id for _ in range(3)]
    ref_b = runners.create_runner(b, flow_id=flow_b.id).runner.ref_id
    assert [r.rsplit("-", 1)[1] for r in refs_a] == ["1", "2", "3"]
    assert ref_b.endswith("-1")


def test_cancel_withdraws_and_is_final(make_flow, officer):
    flow, _ = make_flow(form_design())
    actor = officer(_company(flow))
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    cancelled = runners.cancel_runner(actor, runner.id, reason="customer withdrew")
    assert cancelled.status == "cancelled"
    with pytest.raises(errors.Conflict):
        runners.execute_runner(actor, runner.id, action="submit", data={"name": "x", "amount": 1})


def test_viewers_cannot_start_runners_and_customers_only_their_own(make_flow, officer):
    from app.services.principal import Principal

    flow, _ = make_flow(form_design())
    company = _company(flow)
    with pytest.raises(errors.PermissionDenied):
        runners.create_runner(officer(company, roles=("viewer",)), flow_id=flow.id)
    customer = Principal("customer", "cust-9", company.id, frozenset({"customer"}), "C")
    with pytest.raises(errors.PermissionDenied):
        runners.create_runner(customer, flow_id=flow.id, customer_id="someone-else")
