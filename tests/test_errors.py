"""Error answers people and clients meet: 413 as problem JSON for the API and a page for people, staff
error pages leading back to the dashboard; only upload requests may be larger than the body limit;
the favicon every page names exists."""

from __future__ import annotations

from base64 import b64encode
from io import BytesIO
from typing import Any

import pytest
from flask import Flask

from app.config import (
    FILES_PER_REQUEST,
    FORM_ALLOWANCE,
    MAX_BODY_BYTES,
    describe_size,
    load_settings,
    request_limit,
)
from tests.conftest import DEFAULT_PASSWORD, csrf_from

TOO_BIG = 4 * 1024


@pytest.fixture
def small_requests(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024


def _bearer(make_token: Any) -> dict[str, str]:
    _, raw = make_token(roles=("admin",))
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("path", ["/v1/rego/flows/", "/flow/api/runners/"])
def test_a_request_too_large_is_problem_json_in_the_apis(client, make_token, small_requests, path) -> None:
    response = client.post(path, data=b"x" * TOO_BIG, content_type="application/json",
                           headers=_bearer(make_token))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 413 and body["title"] == "Request Entity Too Large"
    assert body["detail"] == "The request is larger than the 2 KB accepted in one request."


def test_a_request_too_large_is_a_page_for_people(client, small_requests) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "email": "a@b.c", "password": "x" * TOO_BIG})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "Too large to accept" in page and "larger than the 2 KB accepted in one request" in page
    assert '<a href="/">Back to the dashboard</a>' in page


def test_staff_error_pages_lead_back_to_the_dashboard(client) -> None:
    page = client.get("/no/such/page", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<a href="/">Back to the dashboard</a>' in page


def test_only_upload_requests_may_exceed_the_body_limit(app, client, make_user, monkeypatch) -> None:
    """A JSON body over MAX_CONTENT_LENGTH is refused unread, while the documents API takes files
    whose total is over it but each within the per-file limit (FILES_PER_REQUEST of them)."""
    monkeypatch.setenv("FLOWDESK_UPLOAD_MAX_BYTES", str(3 * 1024 * 1024))
    assert load_settings()["MAX_CONTENT_LENGTH"] == MAX_BODY_BYTES  # not tied to the upload limit
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, FLOWDESK_UPLOAD_MAX_BYTES=48 * 1024)
    assert request_limit(48 * 1024) == FILES_PER_REQUEST * 48 * 1024 + FORM_ALLOWANCE
    admin = make_user(roles=("admin",))
    headers = {"Authorization": "Basic " + b64encode(f"{admin.email}:{DEFAULT_PASSWORD}".encode()).decode()}
    big_json = client.post("/v1/rego/flows/", json={"name": "x" * 70 * 1024}, headers=headers)
    assert big_json.status_code == 413 and big_json.is_json
    missing = "/v1/rego/documents/00000000-0000-4000-8000-000000000000/files/"
    pdf = b"%PDF-1.4\n" + b"0" * 40 * 1024
    files = {"files": [(BytesIO(pdf), "a.pdf"), (BytesIO(pdf), "b.pdf")]}  # 80 KB in all
    answer = client.post(missing, data=files, headers=headers, content_type="multipart/form-data")
    assert answer.status_code == 404  # read in full, then: no such document (not a 413)


@pytest.mark.parametrize(("size", "text"), [(10 * 1024 * 1024, "10 MB"), (1572864, "1.5 MB"),
                                            (1024 * 1024 - 1, "1023 KB"), (2048, "2 KB"), (300, "300 bytes")])
def test_sizes_read_for_people_never_overstated(size: int, text: str) -> None:
    assert describe_size(size) == text


def test_pages_name_a_favicon_that_exists(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    with client.get("/static/favicon.svg") as icon:  # closes the served file
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
        assert b"<script" not in icon.data
