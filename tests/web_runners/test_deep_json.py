"""Data typed on a page and nested deeper than the JSON parser goes is refused like any bad JSON."""

from __future__ import annotations

from tests.web_runners.conftest import WAITS


def test_start_data_nested_too_deeply_is_refused_with_a_message(client, lender, sign_in):
    flow = lender.flow(WAITS)
    csrf = sign_in("admin")
    typed = '{"x": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = client.post("/runners/new", data={"csrf_token": csrf, "flow": flow.id, "payload": typed})
    assert response.status_code == 422
    assert "This is not valid JSON: the data is nested too deeply" in response.get_data(as_text=True)
