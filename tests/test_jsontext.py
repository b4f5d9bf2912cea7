"""Text from outside parsed as JSON: nesting past the parser's limit is bad JSON, not a crash."""

from __future__ import annotations

import json

import pytest

from app import jsontext


def test_deep_nesting_is_a_json_error_and_the_text_is_not_kept_in_it() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        jsontext.loads("[" * 100_000 + "]" * 100_000)
    assert caught.value.msg == jsontext.TOO_DEEP and caught.value.doc == ""
    assert jsontext.loads('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
