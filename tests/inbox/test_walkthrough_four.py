"""Request page fixes from the fourth walk-through: who decides a level is named as people read it,
and a viewer's way back leads somewhere they may go."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.extensions import db
from app.services import approvals
from tests.conftest import AuthActions
from tests.inbox.conftest import Team


def _page(app: Flask, email: str, path: str) -> str:
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client.get(path).get_data(as_text=True)


def test_a_level_for_other_roles_names_them_as_people_read_them(app: Flask, team: Team,
                                                                 approval_runner: Any) -> None:
    # It said "Level L1 is for credit_officer.", the roles' stored keys.
    _, request = approval_runner(600000)
    page = _page(app, team.viewer.email, f"/inbox/approvals/{request.id}")
    assert "Level L1 is for Credit officer; you cannot decide it." in page
    assert "credit_officer" not in page.split('id="decide-h"')[1]


def test_a_level_for_named_people_names_them_not_their_ids(app: Flask, team: Team) -> None:
    request = approvals.create_approval(team.maker, resource_type="loan", resource_id="L-1", title="Waiver",
                                        levels=[{"name": "CFO", "approvers": {"users": [team.viewer.id]}}])
    page = _page(app, team.officers[0].email, f"/inbox/approvals/{request.id}")
    assert "Level CFO is for Vic Viewer; you cannot decide it." in page
    assert team.viewer.id not in page.split('id="decide-h"')[1]


def test_a_viewer_is_led_back_to_the_runner_not_the_inbox_they_cannot_open(
        app: Flask, team: Team, approval_runner: Any) -> None:
    runner, request = approval_runner(600000)
    page = _page(app, team.viewer.email, f"/inbox/approvals/{request.id}")
    assert 'href="/inbox/"' not in page
    assert f'<a href="/runners/{runner.id}">← Runner {runner.ref_id}</a>' in page
    officer = _page(app, team.officers[0].email, f"/inbox/approvals/{request.id}")
    assert '<a href="/inbox/">← Inbox</a>' in officer


def test_the_inbox_filters_hold_for_checklist_tasks(app: Flask, team: Team, make_flow: Any,
                                                    start: Any) -> None:
    # "Older than a day" still listed (and counted) a checklist opened a moment ago, and the
    # Stage filter offered only the approvals' stages, so a task's stage could not be picked.
    from app.services import checklists
    from tests.inbox.conftest import CHECKLIST, chain

    template = checklists.create_template(team.maker, name="Disbursal", items=[{"title": "Mandate signed"}])
    runner = start(make_flow(chain(CHECKLIST, template_id=template.id)))
    client = app.test_client()
    AuthActions(client).login(team.officers[0].email)
    everything = client.get("/inbox/").get_data(as_text=True)
    assert "Before disbursal" in everything and '<option value="disbursal">disbursal</option>' in everything
    # The task's runner reference leads to the application (it was plain text).
    assert f'<a href="/runners/{runner.id}">{runner.ref_id}</a> · stage disbursal' in everything
    by_stage = client.get("/inbox/?stage=disbursal").get_data(as_text=True)
    assert "Before disbursal" in by_stage
    old = client.get("/inbox/?age=24", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Before disbursal" not in old
    assert '<span id="inbox-count" class="count zero">0</span>' in old


def test_a_decision_on_a_filtered_inbox_recounts_under_the_filters(
        app: Flask, team: Team, make_flow: Any, start: Any) -> None:
    # The page said "Waiting for you: 1" for the one card its Flow filter showed; approving it
    # swapped in the unfiltered total (2) above "Nothing waits for you with these filters".
    from tests.conftest import csrf_from
    from tests.inbox.conftest import APPROVAL, chain

    shown = make_flow(chain(APPROVAL))
    start(make_flow(chain(APPROVAL)), {"amount": 1000})
    request = approvals.get_by_resource(team.maker, "runner", start(shown, {"amount": 1000}).id)
    client = app.test_client()
    AuthActions(client).login(team.officers[0].email)
    page = client.get(f"/inbox/?flow={shown.id}").get_data(as_text=True)
    assert '<span id="inbox-count" class="count">1</span>' in page
    assert 'hx-include=".inbox-filters"' in page
    answer = client.post(f"/inbox/approvals/{request.id}/decide", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_from(page), f"a-{request.id}-decision": "approve",
        f"a-{request.id}-version": str(request.version),
        "flow": shown.id, "stage": "", "age": "", "sort": "newest"}).get_data(as_text=True)
    assert '<span id="inbox-count" class="count zero" hx-swap-oob="true">0</span>' in answer
    assert 'aria-label="1 waiting">1</span>' in answer  # the top bar still counts everything


def test_the_filter_selects_show_what_filters(app: Flask, team: Team, approval_runner: Any) -> None:
    # A bookmarked stage with nothing left in it showed "All stages" selected above "Nothing
    # waits for you with these filters"; a flow id not of the company likewise with "All flows".
    _, request = approval_runner(1000)
    client = app.test_client()
    AuthActions(client).login(team.officers[0].email)
    for query in ("flow=no-such-flow", "stage=%00", "age=12"):
        page = client.get(f"/inbox/?{query}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200, query
        assert f'id="approval-{request.id}"' in text, query
        assert "with these filters" not in text, query
    closed = client.get("/inbox/?stage=closed").get_data(as_text=True)
    assert '<option selected value="closed">closed</option>' in closed
    assert f'id="approval-{request.id}"' not in closed and "with these filters" in closed


def test_a_decision_refused_as_stale_can_be_made_again_from_the_page_it_shows(
        app: Flask, team: Team, approval_runner: Any) -> None:
    # Officer 2 opened level L1; officer 1 approved it meanwhile. Officer 2's Approve was refused
    # ("reload and decide again") over a page showing L2, but its form kept the stale version: a
    # second Approve was refused the same way, and reloading re-sent the same stale form.
    import re

    from tests.conftest import csrf_from

    _, request = approval_runner(600000)
    client = app.test_client()
    AuthActions(client).login(team.officers[1].email)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    seen = request.version
    approvals.approve(team.officer(0), request.id)
    data = {"csrf_token": csrf_from(page), f"a-{request.id}-decision": "approve",
            f"a-{request.id}-comment": "Looks fine", f"a-{request.id}-version": str(seen)}
    refused = client.post(f"/inbox/approvals/{request.id}/decide", data=data)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "This request changed since you opened it; it is shown as it is now." in text
    assert "L2 (2 of 2)" in text and "Looks fine</textarea>" in text
    shown = re.search(rf'name="a-{request.id}-version" type="hidden" value="(\d+)"', text)
    assert shown and shown.group(1) != str(seen)
    again = client.post(f"/inbox/approvals/{request.id}/decide", data={
        **data, f"a-{request.id}-version": shown.group(1), "csrf_token": csrf_from(text)})
    assert again.status_code == 302
    db.session.expire_all()
    assert approvals.get_approval(team.maker, request.id).status == "approved"


def test_an_inbox_card_refused_as_stale_carries_the_version_it_shows(
        app: Flask, team: Team, approval_runner: Any) -> None:
    import re

    from tests.conftest import csrf_from

    _, request = approval_runner(600000)
    client = app.test_client()
    AuthActions(client).login(team.officers[1].email)
    page = client.get("/inbox/").get_data(as_text=True)
    seen = request.version
    approvals.approve(team.officer(0), request.id)
    card = client.post(f"/inbox/approvals/{request.id}/decide", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_from(page), f"a-{request.id}-decision": "approve",
        f"a-{request.id}-version": str(seen)}).get_data(as_text=True)
    assert "it is shown as it is now" in card and "level L2 (2 of 2)" in card
    shown = re.search(rf'name="a-{request.id}-version" type="hidden" value="(\d+)"', card)
    assert shown and shown.group(1) == str(approvals.get_approval(team.maker, request.id).version)


def test_the_request_pages_checklist_heading_follows_its_section(app: Flask, team: Team, make_flow: Any,
                                                                 start: Any) -> None:
    # Under the page's "Checklists" (h2) the checklist's title was an h4, skipping a level.
    from app.services import checklists
    from tests.conftest import csrf_from
    from tests.inbox.conftest import APPROVAL, CHECKLIST, chain

    template = checklists.create_template(team.maker, name="Disbursal", items=[{"title": "Mandate signed"}])
    runner = start(make_flow(chain(CHECKLIST, APPROVAL, template_id=template.id)), {"amount": 1000})
    client = app.test_client()
    AuthActions(client).login(team.officers[0].email)
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "<h4>Before disbursal <small>(open)</small></h4>" in inbox
    tick = inbox[inbox.index('action="/inbox/checklists/'):]
    client.post(tick[len('action="'):tick.index('"', len('action="'))],
                data={"csrf_token": csrf_from(inbox), "done": "1"})
    request = approvals.get_by_resource(team.maker, "runner", runner.id)
    page = client.get(f"/inbox/approvals/{request.id}").get_data(as_text=True)
    assert '<h2 id="cl-h">Checklists</h2>' in page
    assert "<h3>Before disbursal <small>(completed)</small></h3>" in page
