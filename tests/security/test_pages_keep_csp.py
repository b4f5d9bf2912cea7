"""Every page an admin can reach keeps the CSP (no inline code or styles) and CSRF-protects its POSTs."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from app.services import flows, runners, secrets, tokens
from app.services.principal import Principal
from tests.security.conftest import code_at, verify
from tests.web_runners.conftest import WAITS


class PageAudit(HTMLParser):
    """Collects links and everything the CSP or CSRF rules forbid on one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.problems: list[str] = []
        self._in_script = False
        self._form: dict[str, bool] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> attribute")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.problems.append("<script> without src")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "form":
            method = (values.get("method") or "get").lower()
            self._form = {"post": method == "post", "csrf": False}
        if tag == "input" and self._form is not None and (values.get("name") or "").endswith("csrf_token"):
            self._form["csrf"] = bool(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "form" and self._form is not None:
            if self._form["post"] and not self._form["csrf"]:
                self.problems.append("POST form without a csrf_token")
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline <script> body")


def audit_page(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


def crawl(client, start: str = "/", limit: int = 300) -> dict[str, list[str]]:
    """Breadth-first over same-site links (never sign-out); returns each HTML page's problems."""
    seen, queue, found = {start}, [start], {}
    while queue and len(found) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code >= 500:
            found[url] = [f"HTTP {response.status_code}"]
            continue
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        page = audit_page(response.get_data(as_text=True))
        found[url] = page.problems
        for href in page.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/logout"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path not in seen:
                seen.add(path)
                queue.append(path)
    return found


def test_the_auditor_finds_what_it_should():
    bad = audit_page('<div style="color:red" onclick="x()"><script>alert(1)</script>'
                     '<form method="post"><input name="a"></form><a href="javascript:x()">x</a></div>')
    assert len(bad.problems) == 6
    good = audit_page('<script src="/static/x.js"></script><form method="POST">'
                      '<input name="p-csrf_token" value="t"></form><form method="get"></form>')
    assert good.problems == []


def test_every_admin_page_keeps_the_csp_and_csrf(client, auth, make_user):
    admin = make_user(name="Ada Admin")
    actor = Principal.for_user(admin)
    tokens.issue_api_token(actor, admin.company, name="LOS")
    secrets.set_secret(actor, "bank", {"client_secret": "x"})
    # A flow with a current version and a runner waiting at a form: the start page and the runner
    # page's "Waiting for" forms are crawled with something in them.
    flow = flows.create_flow(actor, name="Crawled loans")
    flows.create_design(actor, flow_id=flow.id, document=WAITS)
    runner = runners.create_runner(actor, flow_id=flow.id).runner
    auth.login(admin.email)

    pages = crawl(client)
    expected = {"/", "/settings/tokens", "/settings/secrets", "/settings/sign-in", "/settings/audit",
                "/settings/team", f"/settings/team/{admin.id}",
                "/account/security", "/account/password", "/account/security/two-factor",
                "/runners/new", f"/runners/new?flow={flow.id}", f"/runners/{runner.id}"}
    assert expected <= set(pages), sorted(pages)
    assert {url: problems for url, problems in pages.items() if problems} == {}


def test_sign_in_pages_keep_the_csp_and_csrf(client, auth, make_user, enrol):
    enrolled = enrol(make_user())
    assert audit_page(client.get("/login").get_data(as_text=True)).problems == []
    auth.login(enrolled.user.email)
    verify_page = client.get("/login/verify").get_data(as_text=True)
    assert "Second factor" in verify_page
    assert audit_page(verify_page).problems == []
    verify(client, code_at(enrolled.secret))
    assert audit_page(client.get("/account/security").get_data(as_text=True)).problems == []
