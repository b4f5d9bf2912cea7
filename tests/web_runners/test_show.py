"""One runner's page: header, the runner on its graph, store and params (masked), activity, executions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for

from app.engine import load_state
from app.extensions import db
from app.models import Runner
from app.services import clock, flows, outbound_allowlist, runner_queries, runners, secrets, stores
from app.services.principal import Principal
from app.web.runners import views
from app.web.runners.waiting import from_now
from tests.effects.stub_server import StubResponse, StubServer
from tests.web_runners.conftest import FAILS, HTMX, WAITS, calls_out

KEY = "sk_live_RUNNER_PAGE_4417"


def node_group(html: str, name: str) -> str:
    """The SVG group drawing node `name`, from its opening tag to its </g>."""
    match = re.search(rf'<g class="node node--(\w+)"[^>]*data-node="{name}">.*?</g>', html, re.S)
    assert match, f"no box for {name}"
    return match.group(0)


def state_of(html: str, name: str) -> str:
    return re.search(r'node--(\w+)', node_group(html, name)).group(1)


def test_the_header_and_the_graph_show_where_a_waiting_runner_is(client, lender, sign_in):
    asha = lender.customer(name="Asha Rao", email="asha@example.com")
    runner = lender.start(lender.flow(WAITS, name="Home loans"), customer=asha)
    sign_in("viewer")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)

    assert f"<h1>{runner.ref_id}</h1>" in html
    assert "Home loans, design version 1" in html and "Asha Rao" in html
    assert 'id="runner-status">waiting<' in html and "application" in html
    assert "runners.css" in html and "runners.js" in html
    # The graph: the form is where the runner waits, start is done, the end is not reached yet.
    assert '<svg class="graph graph--min-' in html
    assert state_of(html, "apply") == "waiting"
    assert state_of(html, "start") == "ok"
    assert state_of(html, "done") == "idle"
    assert "<title>apply (form): waiting</title>" in node_group(html, "apply")
    assert "At apply (waiting)." in html  # the SVG's description
    assert re.search(r'<g class="edge edge--goto">\s*<title>apply → done: submit</title>', html)
    assert 'marker-end="url(#arrow)"' in html
    # The same for screen readers, as a table, and a legend in words.
    table = html[html.index("Nodes and their state"):]
    assert re.search(r'<th scope="row">apply</th><td>form</td><td>waiting</td>\s*'
                     r'<td>done \(submit\)</td>', table)
    assert "fallback edge (dashed)" in html and "not visited" in html
    # Viewers read; they are offered nothing to do.
    assert "Cancel this runner" not in html and "/cancel" not in html


def test_a_failed_runner_shows_its_failed_node_and_reason(client, lender, sign_in):
    runner = lender.start(lender.flow(FAILS))
    sign_in("admin")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert 'id="runner-status">failed<' in html
    assert "no &#39;auto&#39; edge whose condition holds" in html
    assert state_of(html, "start") == "failed"
    assert state_of(html, "done") == "idle"
    assert ">Retry</button>" in html and "Cancel this runner" in html


def test_store_and_params_never_show_the_secret(client, lender, sign_in):
    admin = lender.admin
    with StubServer() as stub:
        outbound_allowlist.add_entry(admin, "127.0.0.1")
        secrets.set_secret(admin, "bureau", {"api_key": KEY}, fields=["headers"], hosts=["127.0.0.1"])
        # The upstream echoes the key back in its error, as careless vendors do.
        stub.enqueue("/score", StubResponse(500, {"error": f"bad key {KEY}", "key": KEY}))
        runner = lender.start(lender.flow(calls_out(stub.url("/score"))),
                              data={"pan": "ABCDE1234F", "notes": "n" * 200})
        assert stub.requests_to("/score")[0].header("X-Api-Key") == KEY  # the secret was really used
    assert runner.current_nodes == ["review"]
    sign_in("credit_officer")
    pages = {url: client.get(url).get_data(as_text=True) for url in (
        f"/runners/{runner.id}", f"/runners/{runner.id}/live", f"/runners/{runner.id}/activity",
        f"/runners/{runner.id}/executions", "/runners/")}
    assert not [url for url, html in pages.items() if "RUNNER_PAGE" in html]
    html = pages[f"/runners/{runner.id}"]
    store = stores.runner_store(admin, runner.id).data
    assert store["bureau_error"]  # the fallback wrote what went wrong into the store...
    assert f"<code>{store['bureau_error']}</code>" in html  # ...and the page shows it
    assert "<code>pan</code></th>" in html and "<code>ABCDE1234F</code>" in html
    # Params as the API shows them: the secret's value masked, the rest rendered.
    params = html[html.index("<caption>Params</caption>"):]
    assert re.search(r"<code>bureau</code></th>\s*<td>(<details><summary>)?<code>\{&#34;api_key&#34;: "
                     r"&#34;\*\*\*\*\*\*\*\*&#34;", params)
    assert "ap-south-1" in params
    # A long value is cut in the table, and in full in a disclosure.
    notes = html[html.index("<code>notes</code>"):].split("</tr>")[0]
    assert "n" * 79 + "…" in notes and "&#34;" + "n" * 200 + "&#34;" in notes and "<details>" in notes
    # The failed call and the fallback show in the node states and the executions.
    assert state_of(html, "bureau") == "failed" and state_of(html, "review") == "waiting"
    assert re.search(r'<g class="edge edge--fallback">\s*'
                     r'<title>bureau → review: auto \(fallback\)</title>', html)


def test_activity_and_executions_newest_first(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    runners.execute_runner(lender.admin, runner.id, action="submit", data={"amount": 5})
    sign_in("viewer")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    timeline = html[html.index('id="activity"'):html.index('id="executions-h"')]
    kinds = re.findall(r"<code>(runner\.[a-z_]+)</code>", timeline)
    # The action and the ending share a moment; the creation came before both.
    assert set(kinds[:2]) == {"runner.succeeded", "runner.action"} and kinds[-1] == "runner.created"
    assert "Kestrel admin submitted &#39;submit&#39;." in timeline and "by Kestrel admin (staff)" in timeline
    steps = html[html.index('<tbody id="executions">'):]
    assert re.findall(r'<tr class="step step--(\w+)">\s*<th scope="row">(\w+)</th>', steps) == [
        ("succeeded", "done"), ("succeeded", "apply"), ("succeeded", "start")]
    assert " ms</td>" in steps
    assert 'id="runner-status">succeeded<' in html and "Finished (UTC)" in html


def _older_link(html: str, endpoint: str) -> str:
    found = re.search(rf'hx-get="(/runners/[^"]+/{endpoint}\?continuation_token=[^"]+)"', html)
    assert found, f"no older {endpoint} link"
    return found.group(1)


def test_older_executions_and_activity_load_after_the_latest(client, lender, sign_in, monkeypatch):
    monkeypatch.setattr(views, "EXECUTIONS_PAGE", 2)
    monkeypatch.setattr(views, "ACTIVITY_PAGE", 2)
    runner = lender.start(lender.flow(FAILS))
    for _ in range(2):  # each retry fails again at start: one more execution and activity entry
        runners.retry_runner(lender.admin, runner.id)
    sign_in("viewer")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    steps = html[html.index('<tbody id="executions">'):]
    assert len(re.findall(r'<tr class="step ', steps.split("</tbody>")[0])) == 2
    older = client.get(_older_link(html, "executions"), headers=HTMX).get_data(as_text=True)
    assert "<html" not in older
    assert len(re.findall(r'<tr class="step step--failed">', older)) == 1
    assert "Older executions" not in older

    entries = client.get(_older_link(html, "activity"), headers=HTMX).get_data(as_text=True)
    assert "<html" not in entries and entries.count('<li class="event">') == 2
    # Without htmx the link opens a page of its own.
    full = client.get(_older_link(html, "activity").replace("&amp;", "&"))
    assert "<html" in full.get_data(as_text=True) and full.status_code == 200
    broken = client.get(f"/runners/{runner.id}/executions?continuation_token=forged", headers=HTMX)
    assert broken.status_code == 200 and "Invalid continuation token." in broken.get_data(as_text=True)


def test_another_companys_runner_is_not_found(client, lender, sign_in, make_company, make_user):
    actor = Principal.for_user(make_user(make_company("Other Lending", "other")))
    flow = flows.create_flow(actor, name="Theirs")
    flows.create_design(actor, flow_id=flow.id, document=WAITS)
    theirs = runners.create_runner(actor, flow_id=flow.id).runner
    csrf = sign_in("admin")
    for suffix in ("", "/live", "/activity", "/executions"):
        assert client.get(f"/runners/{theirs.id}{suffix}").status_code == 404
    for suffix in ("/cancel", "/retry"):
        response = client.post(f"/runners/{theirs.id}{suffix}", data={"csrf_token": csrf, "reason": "x"})
        assert response.status_code == 404
    assert runners.get_runner(actor, theirs.id).status == "waiting"


@pytest.mark.parametrize(("roles", "shown"),
                         [(("admin",), True), (("credit_officer",), False), (None, False)])
def test_the_design_link_appears_once_the_designer_lets_the_reader_in(app, client, lender, sign_in,
                                                                       monkeypatch, roles, shown):
    runner = lender.start(lender.flow(WAITS))
    if roles is None:  # the designer is not built yet
        monkeypatch.delitem(app.view_functions, "designer.edit", raising=False)
    else:
        def edit(design_id):
            return design_id

        edit.required_roles = frozenset(roles)
        if "designer.edit" in app.view_functions:
            monkeypatch.setitem(app.view_functions, "designer.edit", edit)
        else:
            app.add_url_rule("/test-designs/<design_id>/edit", endpoint="designer.edit", view_func=edit)
    sign_in("admin")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    if roles is not None:
        with app.test_request_context():
            link = url_for("designer.edit", design_id=runner.design_id)
        assert (f'href="{link}">Open the design</a>' in html) is shown
    assert ("Open the design" in html) is shown


def _parent_waiting_on_a_child(lender) -> tuple[Runner, Runner]:
    """start -> child (a sub-flow of WAITS) -> done, started: the parent and the child it waits on."""
    child_flow = lender.flow(WAITS, name="Child checks")
    parent = lender.start(lender.flow({"name": "Parent", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "child"}]},
        {"name": "child", "type": "subflow", "config": {"flow": child_flow.slug},
         "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end"}]}))
    return parent, db.session.query(Runner).filter_by(parent_runner_id=parent.id).one()


def test_a_sub_flows_runner_links_the_runner_that_started_it(client, lender, sign_in):
    """A child runner's page never said it belonged to another runner's sub-flow node."""
    parent, child = _parent_waiting_on_a_child(lender)
    sign_in("viewer")
    html = client.get(f"/runners/{child.id}").get_data(as_text=True)
    assert (f'<dt>Sub-flow of</dt><dd><a href="/runners/{parent.id}">{parent.ref_id}</a>, which waits at its '
            "sub-flow node until this runner ends</dd>") in html
    assert "Sub-flow of" not in client.get(f"/runners/{parent.id}").get_data(as_text=True)


# start -> pause (a timer of three hours) -> done
PAUSES = {"name": "Pauses", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "pause"}]},
    {"name": "pause", "type": "timer", "config": {"duration": "PT3H"},
     "edges": [{"type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end"}]}


def test_a_waiting_timer_says_when_it_fires(client, lender, sign_in):
    """ "It waits for its timer" never said when: the due time is in the runner's pending timer."""
    before = clock.now()
    runner = lender.start(lender.flow(PAUSES))
    [timer] = load_state(runner.state, store={}).pending.values()
    assert timedelta(hours=3) <= timer.due_at - before < timedelta(hours=3, minutes=1)
    sign_in("admin")
    html = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    due = timer.due_at.astimezone(UTC)
    assert (f'<p class="timer-due">Due <time datetime="{due.isoformat()}">'
            f'{due:%Y-%m-%d %H:%M:%S} UTC</time> (in 3 hours).</p>') in html
    with clock.travel(timedelta(hours=3, minutes=20)):  # due, but no worker has fired it yet
        late = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert "UTC</time> (20 minutes ago: it fires on the worker's next round).</p>" in late


@pytest.mark.parametrize(("seconds", "words"), [
    (20, "within a minute"), (90, "in 2 minutes"), (3 * 3600 - 1, "in 3 hours"), (3600, "in 1 hour"),
    (2 * 86_400 + 60, "in 2 days"), (-30, "under a minute ago"), (-600, "10 minutes ago")])
def test_from_now_says_roughly_how_far_off(seconds, words):
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert from_now(now + timedelta(seconds=seconds), now) == words


def test_a_waiting_sub_flow_node_links_the_runner_it_started(client, lender, sign_in, make_company,
                                                             make_user):
    """The child linked back to its parent; the parent's sub-flow node never said which runner it
    waits for."""
    parent, child = _parent_waiting_on_a_child(lender)
    assert runner_queries.child_runners(lender.admin, parent) == [
        runner_queries.ChildRunner(child.id, child.ref_id, "waiting", "child")]
    assert runner_queries.child_runners(lender.admin, child) == []
    stranger = Principal.for_user(make_user(make_company("Other", "other"), roles=("admin",)))
    assert runner_queries.child_runners(stranger, parent) == []

    sign_in("admin")
    html = client.get(f"/runners/{parent.id}").get_data(as_text=True)
    waiting = html[html.index('id="waiting"'):]
    assert (f'<p class="child-runner">Its sub-flow runner: <a href="/runners/{child.id}">{child.ref_id}</a> '
            "(waiting).</p>") in waiting
    runners.execute_runner(lender.admin, child.id, action="submit", data={})
    db.session.expire_all()
    assert runner_queries.child_runners(lender.admin, db.session.get(Runner, parent.id)) == [
        runner_queries.ChildRunner(child.id, child.ref_id, "succeeded", None)]  # no longer awaited
    assert 'class="child-runner"' not in client.get(f"/runners/{parent.id}").get_data(as_text=True)
