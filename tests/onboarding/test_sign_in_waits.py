"""Signing in when a code cannot be sent yet: the page says how long to wait and keeps a way back to
the code already sent; the "Send a new code" control is a styled link button."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from app.web.onboarding.context import CHALLENGE_KEY
from app.web.onboarding.sign_in import wait_text
from tests.conftest import csrf_from
from tests.onboarding.conftest import E164, MOBILE, Onboarding, last_code


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _resend(onboarding: Onboarding) -> Any:
    page = _text(onboarding.client.get(f"{onboarding.url}/code"))
    return onboarding.client.post(f"{onboarding.url}/resend", data={"csrf_token": csrf_from(page)},
                                  follow_redirects=True)


def test_a_resend_within_the_minute_says_how_long_to_wait(onboarding: Onboarding) -> None:
    assert onboarding.send().status_code == 302
    page = _text(_resend(onboarding))
    wait = re.search(r"A new code can be sent in (\d+) seconds?\.", page)
    assert wait and 0 < int(wait.group(1)) <= 60
    assert "The code we sent earlier still works." in page and "Too many attempts" not in page
    assert "Enter your code" in page


def test_the_same_number_again_offers_the_code_already_sent(onboarding: Onboarding) -> None:
    assert onboarding.send().status_code == 302
    first_code = last_code(onboarding.company.id, E164)
    _resend(onboarding)
    again = onboarding.send(" 98765 43210 ")  # the same number, typed differently
    assert again.status_code == 429 and "A new code can be sent in" in _text(again)
    link = re.search(r'Already have the code we sent to <strong>\+91\*+10</strong>\? '
                     r'<a href="([^"]+)">Enter the code</a>', _text(again))
    assert link and link.group(1) == f"{onboarding.url}/code"
    assert "Enter your code" in _text(onboarding.client.get(link.group(1)))
    signed_in = onboarding.enter(first_code)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/step")


def test_no_way_back_to_a_code_that_has_expired(onboarding: Onboarding) -> None:
    assert onboarding.send().status_code == 302
    with onboarding.client.session_transaction() as session:
        session[CHALLENGE_KEY] = {**session[CHALLENGE_KEY], "exp": int(time.time()) - 1}
    again = onboarding.send(MOBILE)
    assert again.status_code == 429 and "Enter the code</a>" not in _text(again)


def test_a_limited_other_number_gets_no_link_to_this_code(onboarding: Onboarding) -> None:
    assert onboarding.send("9812345678").status_code == 302
    assert onboarding.send(MOBILE).status_code == 302
    again = onboarding.send("9812345678")  # limited; the pending code is for the other number
    assert again.status_code == 429 and "Enter the code</a>" not in _text(again)


def test_too_many_wrong_codes_says_how_many_minutes_to_wait(onboarding: Onboarding) -> None:
    assert onboarding.send().status_code == 302
    for _ in range(10):
        assert onboarding.enter("000000").status_code == 422
    blocked = onboarding.enter("000000")
    assert blocked.status_code == 429
    assert re.search(r"Too many wrong codes\. Please wait \d+ minutes, then ask for a new code\.",
                     _text(blocked))


def test_send_a_new_code_is_a_link_button(onboarding: Onboarding) -> None:
    onboarding.send()
    page = _text(onboarding.client.get(f"{onboarding.url}/code"))
    assert '<button type="submit" class="link">Send a new code</button>' in page
    assert 'value="Send a new code"' not in page  # not the unstyled native <input type=submit>


@pytest.mark.parametrize(("seconds", "text"), [(1, "1 second"), (45, "45 seconds"), (90, "90 seconds"),
                                               (91, "2 minutes"), (3600, "60 minutes")])
def test_waits_read_in_seconds_then_minutes(seconds: int, text: str) -> None:
    assert wait_text(seconds) == text
