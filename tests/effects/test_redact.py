"""Credentials a call sent are taken out of its answer: whole values, parts of strings, short ones."""

from __future__ import annotations

from app.effects.redact import MASK, Redactor, derived_part


def test_a_sent_value_is_masked_wherever_it_appears_in_the_answer() -> None:
    redact = Redactor(["sk_live_ABCDEF", "Bearer tok-123456"])
    answer = {"headers": {"X-Echo-Key": "sk_live_ABCDEF", "Auth": "Bearer tok-123456"},
              "body": {"seen": "key=sk_live_ABCDEF; other=1", "list": ["sk_live_ABCDEF", 7],
                       "sk_live_ABCDEF": "as a key", "score": 780, "ok": True, "none": None}}
    assert redact(answer) == {
        "headers": {"X-Echo-Key": MASK, "Auth": MASK},
        "body": {"seen": f"key={MASK}; other=1", "list": [MASK, 7], MASK: "as a key",
                 "score": 780, "ok": True, "none": None}}


def test_a_short_value_is_masked_only_where_a_whole_value_equals_it() -> None:
    redact = Redactor(["4321", 9876])  # replacing every "4321" inside text would corrupt answers
    assert redact({"pin": "4321", "code": 9876, "ref": "A4321B", "n": 4321}) == {
        "pin": MASK, "code": MASK, "ref": "A4321B", "n": MASK}


def test_nothing_to_hide_leaves_the_answer_as_it_is() -> None:
    answer = {"body": {"a": [1, "two"]}}
    assert Redactor([None, "", True])(answer) is answer


def test_the_secret_part_of_a_templated_string_is_what_the_masked_rendering_hid() -> None:
    assert derived_part("Bearer abc123", f"Bearer {MASK}") == "abc123"
    assert derived_part("k-abc123-v2", f"k-{MASK}-v2") == "abc123"
    assert derived_part("abc123", MASK) == "abc123"
    assert derived_part("a:b", f"{MASK}:{MASK}") == "a:b"  # two secrets: the span covering both
    assert derived_part("plain", "plain") == ""
