"""In a real browser: corrected fields stop looking wrong, an oversized file is refused before it is
sent (and, without JavaScript, the page comes back with the reason), the code page's waits and its
way back, and pages that load without a single error answer (the favicon included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Runner
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, E164, MOBILE, PDF, Onboarding, last_code

pytestmark = pytest.mark.browser
KB = 1024


def _watch(page: Any) -> list[str]:
    """What a customer should never meet: script errors, console errors (a CSP block shows there)
    and error answers other than those a test expects."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return problems


@pytest.fixture
def customer_page(live_server: str, chromium: Any, onboarding: Onboarding) -> Iterator[Any]:
    """A phone-sized browser page signed in as the test client's customer (its session cookie)."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    onboarding.sign_in()
    cookie = onboarding.client.get_cookie("session")
    context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    page = context.new_page()
    page.problems = _watch(page)
    yield page
    context.close()


def _settled(page: Any, selector: str, *, marked: bool) -> None:
    """Wait until the input's field is (or is no longer) marked wrong, as htmx settles after a swap."""
    page.wait_for_function(
        "([selector, marked]) => document.querySelector(selector).closest('.field')"
        ".classList.contains('has-error') === marked", arg=[selector, marked], timeout=5000)


def _state(page: Any, selector: str) -> tuple[bool, str | None, str]:
    """(field marked has-error, aria-invalid, border colour) of the input."""
    marked, invalid, border = page.locator(selector).evaluate(
        "el => [el.closest('.field').classList.contains('has-error'), el.getAttribute('aria-invalid'),"
        " getComputedStyle(el).borderTopColor]")
    return marked, invalid, border


def test_a_corrected_field_stops_looking_wrong(customer_page: Any, live_server: str,
                                               onboarding: Onboarding) -> None:
    from playwright.sync_api import expect

    page = customer_page
    page.goto(f"{live_server}{onboarding.url}/step")
    page.get_by_role("button", name="Continue").click()  # everything empty: the server marks them all
    expect(page.locator("#f-full_name-errors")).to_contain_text("This field is required.")
    marked, invalid, red = _state(page, "#f-full_name")
    assert marked and invalid == "true"
    page.problems.clear()  # that submit's 422 was expected; nothing else may go wrong

    page.get_by_label("Full name").fill(ABOUT_YOU["full_name"])
    page.get_by_label("PAN").fill("abc")
    page.get_by_label("Monthly income (INR)").click()  # leaving the fields checks them
    expect(page.locator("#f-pan-errors")).to_contain_text("expected format")
    expect(page.locator("#f-full_name-errors")).to_be_empty()
    _settled(page, "#f-full_name", marked=False)
    _settled(page, "#f-pan", marked=True)
    assert _state(page, "#f-full_name")[:2] == (False, None)
    assert _state(page, "#f-full_name")[2] != red
    assert _state(page, "#f-pan") == (True, "true", red)  # newly wrong: marked the same way

    page.get_by_label("PAN").fill(ABOUT_YOU["pan"])
    page.get_by_label("Monthly income (INR)").click()
    expect(page.locator("#f-pan-errors")).to_be_empty()
    _settled(page, "#f-pan", marked=False)
    assert _state(page, "#f-pan")[:2] == (False, None)
    assert page.problems == []


def _to_documents(onboarding: Onboarding) -> None:
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302


def test_an_oversized_file_is_refused_before_it_is_sent(app: Flask, customer_page: Any, live_server: str,
                                                       onboarding: Onboarding) -> None:
    from playwright.sync_api import expect

    app.config["FLOWDESK_UPLOAD_MAX_BYTES"] = 2 * KB
    _to_documents(onboarding)
    page = customer_page
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(f"{live_server}{onboarding.url}/step")
    expect(page.get_by_text("Word or Excel file, up to 2 KB.").first).to_be_visible()
    pan = page.get_by_label("PAN card")
    pan.set_input_files({"name": "pan.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * (3 * KB)})
    expect(page.locator("#doc-pan_card-errors")).to_have_text(
        "This file is larger than 2 KB, the most we accept. Choose a smaller file.")
    assert pan.evaluate("el => el.files.length") == 0 and _state(page, "#doc-pan_card")[:2] == (True, "true")
    page.get_by_role("button", name="Continue").click()  # held once: the file was not taken
    expect(page.locator("#doc-pan_card-errors")).to_have_text(
        "The file you chose was too large and was not kept. Choose a smaller file, or press "
        "Continue again to go on without it.")
    assert posts == []
    page.get_by_role("button", name="Continue").click()  # nothing chosen now: the server says so
    expect(page.locator("#doc-pan_card-errors")).to_have_text("Choose a file to upload.")

    # A file put in place without a change event is still caught when the form is sent.
    posts.clear()
    pan.evaluate("el => { const files = new DataTransfer();"
                 " files.items.add(new File([new Uint8Array(3 * 1024)], 'big.pdf'));"
                 " el.files = files.files; }")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#doc-pan_card-errors")).to_contain_text("larger than 2 KB")
    assert posts == [] and pan.evaluate("el => el.files.length") == 0  # refused in the browser

    pan.set_input_files({"name": "pan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(page.locator("#doc-pan_card-errors")).to_be_empty()
    assert _state(page, "#doc-pan_card")[:2] == (False, None)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Under review")).to_be_visible()


def test_without_javascript_a_too_large_request_returns_to_the_step(app: Flask, chromium: Any,
                                                                    live_server: str,
                                                                    onboarding: Onboarding) -> None:
    from playwright.sync_api import expect

    app.config["FLOWDESK_UPLOAD_MAX_BYTES"] = 64 * KB  # the step takes 2 x 64 KB + the form allowance
    onboarding.sign_in()
    _to_documents(onboarding)
    context = chromium.new_context(java_script_enabled=False)
    context.add_cookies([{"name": "session", "value": onboarding.client.get_cookie("session").value,
                          "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}{onboarding.url}/step")
    page.get_by_label("PAN card").set_input_files(
        {"name": "huge.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * (2 * 1024 * KB)})
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Upload your documents")).to_be_visible()
    expect(page.get_by_text("A file you chose is larger than 64 KB, the most we accept.")).to_be_visible()
    db.session.expire_all()
    assert db.session.query(Runner).one().current_nodes == ["documents"]
    context.close()


def test_a_customer_who_asks_again_too_soon_finds_the_way_back(live_server: str, chromium: Any,
                                                              onboarding: Onboarding) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems = _watch(page)
    icons: list[tuple[str, int]] = []
    page.on("response", lambda r: icons.append((r.url, r.status)) if "favicon" in r.url else None)
    page.goto(f"{live_server}{onboarding.url}")
    page.get_by_label("Mobile number or email").fill(MOBILE)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    first_code = last_code(onboarding.company.id, E164)

    resend = page.get_by_role("button", name="Send a new code")
    style = resend.evaluate("el => [el.tagName, getComputedStyle(el).backgroundColor,"
                            " getComputedStyle(el).textDecorationLine, getComputedStyle(el).borderTopStyle]")
    assert style == ["BUTTON", "rgba(0, 0, 0, 0)", "underline", "none"]  # like "Sign out", not a grey box
    resend.click()
    expect(page.get_by_text("The code we sent earlier still works.")).to_be_visible()
    expect(page.get_by_text("A new code can be sent in")).to_contain_text("seconds.")

    page.get_by_role("link", name="use another number or email").click()
    page.get_by_label("Mobile number or email").fill(MOBILE)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_text("A new code can be sent in")).to_be_visible()
    page.get_by_role("link", name="Enter the code").click()
    page.get_by_label("6-digit code").fill(first_code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    expect(page.get_by_text("Your application reference:")).to_be_visible()

    assert [p for p in problems if "429" not in p] == []  # the refused send is the one error answer
    # The browser fetched the icon the pages name, and never probed for a missing /favicon.ico.
    fetched = {(url.split("/", 3)[3], status) for url, status in icons}
    assert fetched == {("static/favicon.svg", 200)}
    context.close()
