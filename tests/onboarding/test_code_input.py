"""The one-time code field takes a code as people type or paste it: with spaces or dashes anywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from app.extensions import db
from app.models import Customer, Runner
from tests.onboarding.conftest import E164, Onboarding, last_code

WRITTEN: dict[str, Callable[[str], str]] = {
    "space in the middle": lambda c: f"{c[:3]} {c[3:]}",
    "dash in the middle": lambda c: f"{c[:3]}-{c[3:]}",
    "spaces between pairs": lambda c: f"{c[:2]} {c[2:4]} {c[4:]}",
    "pasted with spaces around": lambda c: f"  {c[:3]} {c[3:]}\t",
    "non-breaking space and en dash": lambda c: f"{c[:2]}\u00a0{c[2:4]}\u2013{c[4:]}",
}


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("written", WRITTEN.values(), ids=WRITTEN.keys())
def test_a_code_with_spaces_or_dashes_signs_the_customer_in(onboarding: Onboarding,
                                                           written: Callable[[str], str]) -> None:
    assert onboarding.send().status_code == 302
    response = onboarding.enter(written(last_code(onboarding.company.id, E164)))
    assert response.status_code == 302, _text(response)
    assert response.headers["Location"].endswith(f"{onboarding.url}/step")
    customer = db.session.query(Customer).filter_by(mobile=E164).one()
    assert db.session.query(Runner).filter_by(customer_id=customer.id).count() == 1


@pytest.mark.parametrize(("typed", "message"), [
    ("56a 501", "The code is 6 digits."), ("12345", "The code is 6 digits."),
    ("1234 5678", "The code is 6 digits."), (" - ", "Enter the code we sent you.")])
def test_anything_but_six_digits_is_still_refused(onboarding: Onboarding, typed: str, message: str) -> None:
    assert onboarding.send().status_code == 302
    response = onboarding.enter(typed)
    assert response.status_code == 422 and message in _text(response)
    assert db.session.query(Runner).count() == 0


def test_the_code_input_has_room_for_a_pasted_code_with_spaces(onboarding: Onboarding) -> None:
    assert onboarding.send().status_code == 302
    page = _text(onboarding.client.get(f"{onboarding.url}/code"))
    tag = re.search(r'<input[^>]*id="code"[^>]*>', page)
    assert tag, page
    assert 'maxlength="12"' in tag.group(0)
    assert 'inputmode="numeric"' in tag.group(0) and 'autocomplete="one-time-code"' in tag.group(0)
