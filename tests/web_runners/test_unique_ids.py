"""A runner's page holds each id once, with its waiting node's form, Retry and Cancel on it."""

from __future__ import annotations

from tests.settings.test_unique_ids import repeated_ids
from tests.web_runners.conftest import WAITS


def test_a_waiting_runners_page_repeats_no_id(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    sign_in("admin")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert page.count("<form") >= 2  # the waiting node's form and Cancel
    assert repeated_ids(page) == {}
