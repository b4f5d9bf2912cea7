"""The status and graph fragment polls while the runner can still move, and stops once it ended."""

from __future__ import annotations

import re

from app.services import runners
from tests.web_runners.conftest import FAILS, HTMX, WAITS


def live_div(html: str) -> str:
    return re.search(r'<div id="runner-live"[^>]*>', html).group(0)


def test_a_waiting_runner_polls_and_stops_once_it_ends(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    sign_in("viewer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    poller = live_div(page)
    assert 'hx-trigger="every 3s"' in poller and 'hx-swap="outerHTML"' in poller
    assert f'hx-get="/runners/{runner.id}/live?seen=waiting&amp;at=' in poller

    fragment = client.get(f"/runners/{runner.id}/live?seen=waiting", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "<svg" in fragment
    assert 'hx-trigger="every 3s"' in live_div(fragment)
    assert "Reload the page" not in fragment

    runners.execute_runner(lender.admin, runner.id, action="submit", data={})
    ended = client.get(f"/runners/{runner.id}/live?seen=waiting", headers=HTMX).get_data(as_text=True)
    assert "hx-trigger" not in live_div(ended) and "hx-get" not in live_div(ended)
    assert 'id="runner-status">succeeded<' in ended
    assert "The runner is now succeeded." in ended and "Reload the page" in ended
    assert re.search(r'node node--ok"[^>]*data-node="done"', ended)
    assert "hx-trigger" not in live_div(client.get(f"/runners/{runner.id}").get_data(as_text=True))


def test_a_failed_runner_keeps_polling_a_cancelled_one_does_not(client, lender, sign_in):
    failed = lender.start(lender.flow(FAILS))
    cancelled = lender.start(lender.flow(WAITS))
    runners.cancel_runner(lender.admin, cancelled.id, reason="duplicate")
    sign_in("viewer")
    # Failed is not final: someone may retry it, and the page should follow.
    failed_page = client.get(f"/runners/{failed.id}").get_data(as_text=True)
    assert 'hx-trigger="every 3s"' in live_div(failed_page)
    # It does not move by itself: the page says what would move it.
    assert "a failed runner moves again only when someone retries it." in failed_page
    assert "while the runner can still move" not in failed_page
    page = client.get(f"/runners/{cancelled.id}").get_data(as_text=True)
    assert "hx-trigger" not in live_div(page)
    assert 'id="runner-status">cancelled<' in page and "duplicate" in page


# start -> apply -> check -> done: two forms, so the runner waits before and after a submit.
TWO_STEPS = {**WAITS, "nodes": [
    WAITS["nodes"][0],
    {**WAITS["nodes"][1], "edges": [{"action": "submit", "type": "goto", "target_node": "check"}]},
    {**WAITS["nodes"][1], "name": "check"},
    WAITS["nodes"][2]]}


def test_a_runner_still_waiting_but_at_another_node_says_the_page_is_old(client, lender, sign_in):
    """Waiting before and waiting after: the poll said nothing, so "Waiting for" kept offering a node
    the runner had left (a parallel branch's timer firing did the same)."""
    runner = lender.start(lender.flow(TWO_STEPS))
    sign_in("viewer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    poll = re.search(r'hx-get="([^"]+)"', live_div(page)).group(1).replace("&amp;", "&")
    assert "moved on" not in client.get(poll, headers=HTMX).get_data(as_text=True)
    runners.execute_runner(lender.admin, runner.id, action="submit", data={})
    fragment = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert 'id="runner-status">waiting<' in fragment
    assert "The runner has moved on: it is now at check." in fragment and "Reload the page" in fragment
    assert re.search(r'hx-get="([^"]+)"', live_div(fragment)).group(1).replace("&amp;", "&") == poll
