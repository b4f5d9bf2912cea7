"""Words, not dashes, for what a runner lacks; counts said in proper English."""

from __future__ import annotations

from app.services import runners
from tests.web_runners.conftest import WAITS
from tests.web_runners.test_outcome import FAILED_END

DASH = "\u2013"  # the en dash that stood for a missing value


def test_missing_values_are_said_in_words_on_the_list_and_the_page(client, lender, sign_in):
    waiting = lender.start(lender.flow(WAITS))
    ended = lender.start(lender.flow(FAILED_END))
    runners.execute_runner(lender.admin, ended.id, action="reject", data={})
    cancelled = lender.start(lender.flow(WAITS, name="Car loans"))
    runners.cancel_runner(lender.admin, cancelled.id, reason="Test cleanup")
    sign_in("viewer")

    listed = client.get("/runners/").get_data(as_text=True)
    rows = {r.ref_id: listed[listed.index(r.ref_id):].split("</tr>")[0] for r in (waiting, ended, cancelled)}
    assert "<td>apply</td>" in rows[waiting.ref_id]
    assert '<td><span class="none">ended</span></td>' in rows[ended.ref_id]
    assert '<td><span class="none">ended</span></td>' in rows[cancelled.ref_id]
    assert '<td><span class="none">none</span></td>' in rows[waiting.ref_id]  # no customer
    assert DASH not in listed

    page = client.get(f"/runners/{cancelled.id}").get_data(as_text=True)
    assert "<dt>Customer</dt><dd>No customer linked</dd>" in page
    assert "<dt>At</dt>" not in page and "Ended at" not in page  # cancelled: at no node, ended at none
    assert DASH not in page[:page.index("Nodes and their state")]
    assert '<span class="none">not yet</span>' not in page  # every visit of a cancelled runner closed

    page = client.get(f"/runners/{waiting.id}").get_data(as_text=True)
    assert "<dt>At</dt><dd>apply</dd>" in page
    assert '<td><span class="none">not yet</span></td>' in page  # apply's visit still open
    assert '<td><span class="none">not finished</span></td>' in page


def test_the_dashboard_counts_one_runner_in_the_singular(client, lender, sign_in):
    sign_in("admin")
    assert "No runners yet</a>" in client.get("/").get_data(as_text=True)
    lender.start(lender.flow(WAITS))
    page = client.get("/").get_data(as_text=True)
    assert ">1 runner in all</a>" in page and "All 1 runners" not in page
    lender.start(lender.flow(WAITS, name="Car loans"))
    assert ">All 2 runners</a>" in client.get("/").get_data(as_text=True)
