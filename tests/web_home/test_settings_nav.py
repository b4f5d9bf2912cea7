"""One "Settings" item in the top bar, the Settings page listing the pages, and their sub-navigation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import Company, User
from tests.conftest import AuthActions
from tests.security.test_pages_keep_csp import crawl

SETTINGS = {"API tokens": "/settings/tokens", "Secrets": "/settings/secrets",
            "Outbound allowlist": "/settings/outbound", "Team": "/settings/team",
            "Sign-in policy": "/settings/sign-in",
            "Audit log": "/settings/audit", "System": "/settings/system"}


def nav_of(page: str, label: str = "Main") -> str:
    found = re.search(rf'<nav [^>]*aria-label="{label}">(.*?)</nav>', page, re.S)
    assert found, f"no {label} navigation"
    return found.group(1)


def links(nav: str) -> dict[str, str]:
    """label -> the whole <a ...> opening tag, for every link of a nav."""
    return {m.group(2).strip(): m.group(1) for m in re.finditer(r"(<a [^>]*>)([^<]+)", nav)}


def test_the_top_bar_has_one_settings_item_instead_of_seven(client: FlaskClient, auth: Any,
                                                            make_user: Any) -> None:
    auth.login(make_user(roles=("admin",)).email)
    top = links(nav_of(client.get("/").get_data(as_text=True)))
    assert list(top) == ["Dashboard", "Designs", "Runners", "Inbox", "Settings", "Security"]
    assert 'href="/settings/"' in top["Settings"] and "aria-current" not in top["Settings"]


@pytest.mark.parametrize("role", ["credit_officer", "viewer"])
def test_others_have_no_settings(client: FlaskClient, auth: Any, make_user, role: str) -> None:
    auth.login(make_user(roles=(role,)).email)
    assert "Settings" not in links(nav_of(client.get("/").get_data(as_text=True)))
    assert client.get("/settings/").status_code == 403


def test_the_settings_page_lists_each_page_with_what_it_is_for(client: FlaskClient, auth: Any,
                                                               make_user) -> None:
    auth.login(make_user(roles=("admin",)).email)
    page = client.get("/settings/").get_data(as_text=True)
    for label, url in SETTINGS.items():
        assert f'<h2><a href="{url}">{label}</a></h2>' in page
    assert "Credentials your loan systems use to call the Flowdesk API." in page
    assert "Outbox" not in page  # not in demo mode
    assert 'aria-current="page">Settings' in nav_of(page)
    assert 'aria-current="page">All settings' in nav_of(page, "Settings")


@pytest.mark.parametrize(("label", "url"), list(SETTINGS.items()))
def test_each_settings_page_marks_itself_and_the_top_item(client: FlaskClient, auth: Any, make_user,
                                                          label: str, url: str) -> None:
    auth.login(make_user(roles=("admin",)).email)
    page = client.get(url).get_data(as_text=True)
    top, sub = links(nav_of(page)), links(nav_of(page, "Settings"))
    assert 'aria-current="true"' in top["Settings"]
    assert [name for name, tag in top.items() if "aria-current" in tag] == ["Settings"]
    assert list(sub) == ["All settings", *SETTINGS]
    assert [name for name, tag in sub.items() if "aria-current" in tag] == [label]


@pytest.fixture
def demo_client(database_url: str, client: FlaskClient) -> Iterator[FlaskClient]:
    demo: Flask = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "FLOWDESK_DEMO": True,
                              "SECRET_KEY": "test-secret-key-that-is-long-enough-for-prod",
                              "RATELIMIT_STORAGE_URI": "memory://"})
    demo.test_client_class = type(client)
    yield demo.test_client()
    with demo.app_context():
        db.engine.dispose()  # the second app's pooled connections, before the database is reset


def test_the_outbox_is_a_settings_page_in_demo_mode(demo_client: FlaskClient,
                                                    make_user: Any, make_company: Any) -> None:
    company: Company = make_company()
    admin: User = make_user(company, roles=("admin",))
    AuthActions(demo_client).login(admin.email)
    index = demo_client.get("/settings/").get_data(as_text=True)
    assert '<h2><a href="/onboard-outbox/">Outbox</a></h2>' in index
    assert "Outbox" not in links(nav_of(index))
    outbox = demo_client.get("/onboard-outbox/").get_data(as_text=True)
    assert 'aria-current="true"' in links(nav_of(outbox))["Settings"]
    assert 'aria-current="page"' in links(nav_of(outbox, "Settings"))["Outbox"]


def test_the_dashboard_and_settings_keep_the_csp(client: FlaskClient, sign_in: Any,
                                                 world: dict[str, Any]) -> None:
    sign_in("admin")
    pages = crawl(client)
    assert {"/", "/settings/", *SETTINGS.values(), f"/runners/{world['failed'].id}",
            f"/designs/flows/{world['draft'].id}", "/runners/?status=waiting"} <= set(pages)
    assert {url: problems for url, problems in pages.items() if problems} == {}
