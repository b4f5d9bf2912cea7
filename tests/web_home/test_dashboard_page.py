"""The dashboard page per role: the right parts with the right numbers, links that go where they say."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.web_home.conftest import Rival, overdue
from tests.web_runners.conftest import HTMX, Lender


def section(page: str, element_id: str) -> str:
    """The HTML of the element with `element_id` up to its closing </section>, whitespace collapsed."""
    start = page.index(f'id="{element_id}"')
    return " ".join(page[start:page.index("</section>", start)].split())


def tile(page: str, status: str) -> int:
    found = re.search(rf'href="/runners/\?status={status}">\s*<span class="tile-count">(\d+)</span>', page)
    assert found, f"no {status} tile"
    return int(found.group(1))


def test_an_admin_sees_counts_attention_inbox_flows_and_recent(client: FlaskClient, lender: Lender,
                                                               world: dict[str, Any], sign_in: Any,
                                                               rival: Rival) -> None:
    sign_in("admin")
    page = client.get("/").get_data(as_text=True)
    statuses = ("waiting", "running", "queued", "failed", "succeeded", "cancelled")
    assert {s: tile(page, s) for s in statuses} == {
        "waiting": 4, "running": 0, "queued": 0, "failed": 1, "succeeded": 1, "cancelled": 1}
    assert "1 succeeded today (since 00:00 UTC): 1 with no outcome given" in " ".join(page.split())
    assert "All 7 runners" in page
    failed = page[page.index("Failed runners, latest first"):page.index("Waiting for more than a day")]
    assert f'href="/runners/{world["failed"].id}">{world["failed"].ref_id}</a>' in failed
    assert "Gate checks" in failed and "<td>start</td>" in failed and "no &#39;auto&#39; edge" in failed
    stale = page[page.index("Waiting for more than a day"):page.index('id="flows-h"')]
    assert world["old"].ref_id in stale and world["fresh"].ref_id not in stale
    inbox = section(page, "my-inbox")
    assert '<strong>1</strong> waiting for you' in inbox
    assert "0 approvals to decide, 1 checklist to complete." in inbox
    assert 'href="/inbox/"' in inbox and "None overdue." in inbox
    flows = section(page, "flows-h")
    assert f'href="/designs/flows/{world["loans"].id}">Home loans</a>' in flows
    assert "No runner can start on this flow" in flows
    assert f'href="/designs/flows/{world["draft"].id}">Draft flow</a>' in flows
    recent = section(page, "recent-h")
    assert recent.count('class="badge badge--') == 7 and 'badge--cancelled">cancelled' in recent
    assert "Rival" not in page


def test_an_officer_sees_their_inbox_with_overdue_approvals_and_no_flows(
        client: FlaskClient, world: dict[str, Any], sign_in: Any) -> None:
    overdue(world["approval"])
    sign_in("credit_officer")
    page = client.get("/").get_data(as_text=True)
    inbox = section(page, "my-inbox")
    assert "<strong>2</strong> waiting for you" in inbox
    assert "1 approval to decide, 1 checklist to complete." in inbox
    assert '<a href="/inbox/?sort=overdue"><strong>1</strong> approval overdue</a>' in inbox
    assert 'id="flows-h"' not in page and "Draft flow" not in page
    assert tile(page, "waiting") == 4
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert 'aria-label="2 waiting">2</span>' in nav  # the inbox badge still shows


def test_a_viewer_sees_only_the_read_only_parts(client: FlaskClient, world: dict[str, Any],
                                                sign_in: Any) -> None:
    sign_in("viewer")
    page = client.get("/").get_data(as_text=True)
    assert 'id="my-inbox"' not in page and 'id="flows-h"' not in page
    assert tile(page, "failed") == 1 and world["failed"].ref_id in page and world["old"].ref_id in page


def test_the_links_go_where_they_say(client: FlaskClient, world: dict[str, Any], sign_in: Any) -> None:
    sign_in("viewer")
    client.get("/")
    failed_list = client.get("/runners/?status=failed").get_data(as_text=True)
    assert world["failed"].ref_id in failed_list and world["fresh"].ref_id not in failed_list
    waiting_list = client.get("/runners/?status=waiting").get_data(as_text=True)
    assert world["old"].ref_id in waiting_list and world["failed"].ref_id not in waiting_list
    shown = client.get(f"/runners/{world['failed'].id}")
    assert shown.status_code == 200 and world["failed"].ref_id in shown.get_data(as_text=True)


def test_another_companys_runners_are_never_shown(client: FlaskClient, auth: Any, rival: Rival,
                                                  world: dict[str, Any]) -> None:
    auth.login(rival.admin.email)
    page = client.get("/").get_data(as_text=True)
    assert tile(page, "waiting") == 3 and tile(page, "cancelled") == 0 and "All 5 runners" in page
    for name in ("Home loans", "Gate checks", "Draft flow", "Kestrel"):
        assert name not in page
    assert all(world[k].id not in page for k in ("failed", "old", "fresh"))


def test_an_empty_company_says_what_to_do(client: FlaskClient, sign_in: Any) -> None:
    sign_in("admin")
    page = client.get("/").get_data(as_text=True)
    assert "No flows yet: create one in" in page and 'href="/designs/"' in page
    assert "No runners yet." in page and "No failed runners." in page
    assert "No runner has been waiting for more than a day." in page
    assert "Nothing waits for you." in page and tile(page, "waiting") == 0


def test_htmx_refreshes_only_the_counts(client: FlaskClient, world: dict[str, Any], lender: Lender,
                                        sign_in: Any) -> None:
    sign_in("viewer")
    page = client.get("/").get_data(as_text=True)
    counts = section(page, "runner-counts")
    assert 'hx-get="/"' in counts and 'hx-trigger="every 30s"' in counts and 'hx-swap="outerHTML"' in counts
    lender.start(world["gate"])
    fragment = client.get("/", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith(("{#", "<section")) and "<html" not in fragment
    assert 'id="runner-counts"' in fragment and tile(fragment, "failed") == 2
    assert "Needs attention" not in fragment


def test_a_zero_is_not_coloured_and_the_empty_list_names_start_a_runner(client: FlaskClient,
                                                                         sign_in: Any) -> None:
    """An empty company showed a red 0 Failed, and the recent list left out the Start a runner the
    runner list names."""
    sign_in("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'class="tile tile--failed tile--zero"' in page and 'class="tile tile--waiting tile--zero"' in page
    assert "once a flow is started with Start a runner on the Runners page, from the API" in page
    AuthActions(client).logout()
    sign_in("viewer")  # viewers start nothing: not offered
    assert "Start a runner" not in client.get("/").get_data(as_text=True)


def test_a_count_above_zero_keeps_its_colour(client: FlaskClient, world: dict[str, Any],
                                             sign_in: Any) -> None:
    sign_in("viewer")
    page = client.get("/").get_data(as_text=True)
    assert 'class="tile tile--failed"' in page and 'class="tile tile--running tile--zero"' in page
