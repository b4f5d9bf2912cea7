"""The runner_queries additions the pages read through: paged executions, node states, offers, labels."""

from __future__ import annotations

import pytest

from app.services import errors, flows, runner_queries, runners, stores
from app.services.principal import Principal
from tests.web_runners.conftest import FAILS, WAITS
from tests.web_runners.test_outcome import FAILED_END


def failed_three_times(lender):
    runner = lender.start(lender.flow(FAILS))
    for _ in range(2):
        runners.retry_runner(lender.admin, runner.id)
    return runner


def test_executions_page_newest_first_and_the_full_list_is_unchanged(lender, make_token, client):
    runner = failed_three_times(lender)
    stores.update_runner_store(lender.admin, runner.id, {"ok": True})
    runners.retry_runner(lender.admin, runner.id)
    everything = runner_queries.executions(runner)
    assert [(s["node"], s["status"]) for s in everything] == [
        ("start", "failed"), ("start", "failed"), ("start", "failed"), ("start", "succeeded"),
        ("done", "succeeded")]
    # The API's Get Runner still lists every visit, oldest first.
    api = client.get(f"/v1/rego/runners/{runner.id}/",
                     headers={"Authorization": f"Bearer {make_token(lender.company, roles=('viewer',))[1]}"})
    assert [s["status"] for s in api.get_json()["executions"]] == [s["status"] for s in everything]

    pages, token = [], None
    while True:
        page = runner_queries.list_executions(lender.admin, runner.id, limit=2, continuation_token=token)
        pages.append(page.items)
        token = page.continuation_token
        if token is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [s for p in pages for s in p] == list(reversed(everything))


def test_executions_page_refuses_what_it_should(lender, make_company, make_user):
    runner = lender.start(lender.flow(WAITS))
    stranger = Principal.for_user(make_user(make_company()))
    with pytest.raises(errors.NotFound):
        runner_queries.list_executions(stranger, runner.id)
    with pytest.raises(errors.ValidationFailed):
        runner_queries.list_executions(lender.admin, runner.id, limit=0)
    with pytest.raises(errors.ValidationFailed, match="continuation token"):
        runner_queries.list_executions(lender.admin, runner.id, continuation_token="forged")


def test_node_statuses_are_each_nodes_latest_visit(lender):
    waiting = lender.start(lender.flow(WAITS))
    assert runner_queries.node_statuses(waiting) == {"start": "succeeded", "apply": "waiting"}
    runner = failed_three_times(lender)
    assert runner_queries.node_statuses(runner) == {"start": "failed"}
    stores.update_runner_store(lender.admin, runner.id, {"ok": True})
    runners.retry_runner(lender.admin, runner.id)
    assert runner_queries.node_statuses(runner) == {"start": "succeeded", "done": "succeeded"}


def test_runner_actions_offer_what_the_use_cases_allow(lender):
    officer = Principal.for_user(lender.users["credit_officer"])
    viewer = Principal.for_user(lender.users["viewer"])
    waiting = lender.start(lender.flow(WAITS))
    failed = lender.start(lender.flow(FAILS))
    assert runner_queries.runner_actions(officer, waiting) == {"cancel"}
    assert runner_queries.runner_actions(officer, failed) == {"cancel", "retry"}
    assert runner_queries.runner_actions(viewer, failed) == frozenset()
    with pytest.raises(errors.PermissionDenied):  # what is not offered is refused too
        runners.retry_runner(viewer, failed.id)
    cancelled = runners.cancel_runner(officer, waiting.id, reason="done with it")
    assert runner_queries.runner_actions(lender.admin, cancelled) == frozenset()


def test_a_runner_failed_at_its_end_node_is_not_offered_a_retry_nor_retried(lender):
    ended = lender.start(lender.flow(FAILED_END))
    ended = runners.execute_runner(lender.admin, ended.id, action="reject", data={}).runner
    failed = lender.start(lender.flow(FAILS))
    assert (ended.status, ended.status_reason) == ("failed", "Not eligible")
    assert runner_queries.retry_node(ended) is None and runner_queries.retry_node(failed) == "start"
    assert runner_queries.runner_actions(lender.admin, ended) == {"cancel"}
    with pytest.raises(errors.Conflict) as refused:  # the API's Retry Runner answers the same
        runners.retry_runner(lender.admin, ended.id)
    assert refused.value.message == "This runner has no failed node to run again."


def test_runner_labels_name_flow_version_and_customer(lender, make_company, make_user):
    flow = lender.flow(WAITS, name="Home loans")
    flows.create_design(lender.admin, flow_id=flow.id, document=WAITS)
    named = lender.start(flow, customer=lender.customer(name="Asha Rao", email="asha@example.com"))
    mailed = lender.start(flow, customer=lender.customer(email="bola@example.com"))
    texted = lender.start(flow, customer=lender.customer(mobile="+919800000012"))
    alone = lender.start(flow)
    stranger = Principal.for_user(make_user(make_company()))
    labels = runner_queries.runner_labels(lender.admin, [named, mailed, texted, alone])
    assert labels[named.id] == runner_queries.RunnerLabels("Home loans", 1, "Asha Rao")
    assert labels[mailed.id].customer == "bola@example.com"
    assert labels[texted.id].customer == "+919800000012"
    assert labels[alone.id].customer is None
    assert runner_queries.runner_labels(stranger, [named]) == {}


def test_filter_choices_are_the_companys_own(lender, make_company, make_user):
    lender.start(lender.flow(WAITS, name="Zebra loans"))
    lender.start(lender.flow(FAILS, name="Auto loans"))
    other = Principal.for_user(make_user(make_company()))
    theirs = flows.create_flow(other, name="Theirs")
    flows.create_design(other, flow_id=theirs.id, document={**WAITS, "nodes": [
        {**n, "stage": "their-stage"} if n["name"] == "apply" else n for n in WAITS["nodes"]]})
    runners.create_runner(other, flow_id=theirs.id)
    choices = runner_queries.filter_choices(lender.admin)
    assert [name for _, name in choices["flows"]] == ["Auto loans", "Zebra loans"]
    assert choices["stages"] == ["application"]
    assert choices["statuses"] == ["queued", "running", "waiting", "succeeded", "failed", "cancelled"]
