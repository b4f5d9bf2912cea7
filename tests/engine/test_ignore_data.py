"""A Back button: an action whose edges say `ignore_data` leaves a half-filled form unchecked."""

from __future__ import annotations

import pytest

from app.engine import InvalidInput, validate
from tests.engine.helpers import Harness, design, goto, node

OPEN_TO_ALL = [{"roles": ["*"], "actions": ["*"]}]
SCHEMA = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "minLength": 2}}}


def _two_pages(**back: object) -> dict:
    return design(
        node("about", "form", goto("address", "submit"), config={"store_as": "about"},
             permissions=OPEN_TO_ALL),
        node("address", "form", goto("end", "submit"), {**goto("about", "back"), **back},
             config={"schema": SCHEMA, "store_as": "address"}, permissions=OPEN_TO_ALL))


def test_back_leaves_a_half_filled_form_without_checking_or_keeping_it() -> None:
    h = Harness(_two_pages(ignore_data=True))
    h.start()
    h.act("submit", {"name": "Asha"})
    with pytest.raises(InvalidInput):
        h.act("submit", {"city": "P"})  # Continue still checks the form
    h.act("back", {"city": "P", "junk": {"x": 1}})
    assert list(h.state.slots) == ["about"]
    assert "address" not in h.state.store  # nothing the half-filled form sent was kept
    assert h.state.store["about"] == {"name": "Asha"}
    h.act("submit", {"name": "Asha K"})
    h.act("submit", {"city": "Pune"})
    assert h.status == "succeeded" and h.state.store["address"] == {"city": "Pune"}


def test_without_ignore_data_back_is_checked_like_any_action() -> None:
    h = Harness(_two_pages())
    h.start()
    h.act("submit", {"name": "Asha"})
    with pytest.raises(InvalidInput):
        h.act("back", {"city": "P"})


@pytest.mark.parametrize(("raw", "message"), [
    (design(node("fill", "form", goto("end", "submit"), {**goto("end", "back"), "ignore_data": True},
                 goto("fill", "back", condition="data.x"), permissions=OPEN_TO_ALL)),
     "every edge for action 'back' must say the same ignore_data"),
    (design(node("shape", "transform", {**goto("end"), "ignore_data": True},
                 config={"data": {}})),
     "ignore_data needs an action a person takes at a node that takes actions"),
])
def test_ignore_data_where_it_cannot_hold_is_a_problem(raw: dict, message: str) -> None:
    assert message in [p.message for p in validate(raw)]
