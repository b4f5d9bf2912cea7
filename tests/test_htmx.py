"""The htmx wrapper: partial rendering for htmx requests and htmx 2 swap values."""

from __future__ import annotations

import pytest
from flask import render_template_string

from app.htmx import htmx_response, is_partial_request


def test_partial_only_for_plain_htmx_requests(app):
    with app.test_request_context(headers={"HX-Request": "true"}):
        assert is_partial_request()
    with app.test_request_context(headers={"HX-Request": "true", "HX-Boosted": "true"}):
        assert not is_partial_request()
    with app.test_request_context(headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        assert not is_partial_request()
    with app.test_request_context():
        assert not is_partial_request()


@pytest.mark.parametrize("swap", ["outerHTML", "textContent", "outerHTML swap:1s", "innerHTML settle:200ms"])
def test_legal_htmx2_swap_values_pass(app, swap):
    with app.test_request_context():
        response = htmx_response(render_template_string("<p>x</p>"), reswap=swap, trigger="saved")
    assert response.headers["HX-Reswap"] == swap
    assert response.headers["HX-Trigger"] == "saved"


def test_unknown_swap_style_is_refused(app):
    with app.test_request_context(), pytest.raises(ValueError, match="unknown htmx swap style"):
        htmx_response("x", reswap="sideways")


def test_htmx_is_served_from_static_vendor(client):
    # make assets copies the pinned npm package here; the page loads it from our own origin.
    html = client.get("/login").get_data(as_text=True)
    assert '/static/vendor/htmx.min.js' in html
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]
    response.close()
