"""Fixtures: an app per test with its own database, a client, a login helper, and factories."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import ApiToken, Company, User
from app.services import accounts, tokens
from app.services.principal import Principal
from tests import databases

DEFAULT_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def _database_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    admin_url = databases.postgres_admin_url()
    if admin_url:
        with databases.scratch_postgres_database(admin_url) as url:
            yield "postgresql", url
    else:
        yield "sqlite", databases.sqlite_template(tmp_path_factory.mktemp("db-template"))


@pytest.fixture
def database_url(_database_source: tuple[str, Any], tmp_path: Path) -> Iterator[str]:
    kind, source = _database_source
    if kind == "sqlite":
        yield databases.sqlite_copy(source, tmp_path)
    else:
        yield source
        databases.truncate_all(source)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (and so its own `g` and db session), as in production.

    The app fixture keeps an app context pushed for the test body; without this, requests would
    reuse it and share `g` (e.g. a cached CSRF token) across requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({
        # Uploads go to the test's own folder, not the checkout's instance/uploads.
        "FLOWDESK_STORAGE_ROOT": str(tmp_path / "uploads"),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-prod",
        "RATELIMIT_STORAGE_URI": "memory://",
        # scrypt costs ~0.1 s a hash; tests create hundreds of users. Production keeps scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Signs a test client in and out through the real forms (CSRF included)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> Any:
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token, **extra})

    def logout(self) -> Any:
        token = csrf_from(self.client.get("/").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def make_company(app: Flask) -> Callable[..., Company]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, slug: str | None = None) -> Company:
        n = next(counter)
        return accounts.create_company(name or f"Lender {n}", slug or f"lender-{n}")

    return make


@pytest.fixture
def make_user(make_company: Callable[..., Company]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(company: Company | None = None, *, roles: tuple[str, ...] = ("admin",),
             email: str | None = None, password: str = DEFAULT_PASSWORD, name: str | None = None) -> User:
        n = next(counter)
        return accounts.create_user(company or make_company(), email=email or f"user{n}@example.com",
                                    name=name or f"User {n}", password=password, roles=roles)

    return make


@pytest.fixture
def make_token(make_company: Callable[..., Company]) -> Callable[..., tuple[ApiToken, str]]:
    def make(company: Company | None = None, *, roles: tuple[str, ...] = ("admin",),
             name: str = "test token") -> tuple[ApiToken, str]:
        company = company or make_company()
        issued = tokens.issue_api_token(Principal.system(company.id), company, name=name, roles=roles)
        return issued.token, issued.raw

    return make


def _service_missing(what: str) -> None:
    """Skip with a message, or fail when FLOWDESK_REQUIRE_SERVICES=1 (CI) demands every service."""
    if os.environ.get("FLOWDESK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} (FLOWDESK_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def require_postgres() -> str:
    """The PostgreSQL admin URL (TEST_DATABASE_URL or the local server), or skip/fail."""
    url = databases.postgres_admin_url() or databases.LOCAL_POSTGRES
    if not databases.postgres_reachable(url):
        _service_missing(f"PostgreSQL is not reachable at {databases.redact(url)}")
    return url


@pytest.fixture(scope="session")
def require_redis() -> str:
    """A Redis URL on a database number of its own (flushed), or skip/fail."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except redis.RedisError:
        _service_missing(f"Redis is not reachable at {url}")
    return url


CHROMIUM = "/usr/bin/chromium"
# Headless Chromium on a closed network: without these it keeps trying to reach Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test's app served on an ephemeral loopback port, for browser tests."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def browser_sign_in(browser: Any, base: str, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    """A new browser page signed in as `email`. `page.problems` collects what a user should never
    meet: script errors, console errors (a script or style blocked by the CSP shows there) and
    error answers (the browser's own favicon probe is not ours to serve)."""
    page = browser.new_context().new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error"
            and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.problems = problems
    return page


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download), or skip/fail if missing."""
    import shutil

    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _service_missing(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
