"""Designer fixtures: a signed-in admin, flows with design versions, and a runner that locks one."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.extensions import db
from app.models import DesignVersion, Flow, User
from app.services import flows, runners
from app.services.principal import Principal
from tests.conftest import AuthActions, csrf_from

HTMX = {"HX-Request": "true"}
# start -> apply (a form the admin may submit) -> done: a runner on it waits at `apply`.
FORM_DESIGN: dict[str, Any] = {"name": "Personal loan", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "config": {}, "edges": [{"type": "goto", "target_node": "apply"}]},
    {"name": "apply", "type": "form", "stage": "application", "config": {"title": "Apply"},
     "permissions": [{"roles": ["admin"], "actions": ["submit"]}],
     "edges": [{"action": "submit", "type": "goto", "target_node": "done"}]},
    {"name": "done", "type": "end", "stage": "closed", "config": {"status": "succeeded"}}]}


def form_design() -> dict[str, Any]:
    return copy.deepcopy(FORM_DESIGN)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(roles=("admin",), name="Ada Admin")


@pytest.fixture
def actor(admin: User) -> Principal:
    return Principal.for_user(admin)


@pytest.fixture
def signed_in(auth: AuthActions, admin: User) -> User:
    auth.login(admin.email)
    return admin


@pytest.fixture
def make_design(actor: Principal) -> Callable[..., DesignVersion]:
    """A design version of `flow` (or of a new flow named `flow_name`) holding `document`."""

    def make(document: dict[str, Any] | None = None, *, flow: Flow | None = None,
             flow_name: str = "Personal loan") -> DesignVersion:
        flow = flow or flows.create_flow(actor, name=flow_name)
        return flows.create_design(actor, flow_id=flow.id, document=document or form_design())

    return make


@pytest.fixture
def lock(actor: Principal) -> Callable[[DesignVersion], None]:
    """Start a runner on the version, which makes it read-only."""

    def run(design: DesignVersion) -> None:
        runners.create_runner(actor, design_id=design.id, data={})
        db.session.expire_all()

    return run


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None, *, page: str | None = None,
         headers: dict[str, str] | None = None) -> Any:
    """POST a page's form with the CSRF token of `page` (or of the dashboard)."""
    token = csrf_from(client.get(page or "/").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers or {})
    db.session.expire_all()  # the test's session must not answer from its cache afterwards
    return response


def textarea(html: str, field_id: str = "document") -> tuple[str, str]:
    """A textarea's opening tag and the text it shows (unescaped, as the browser would)."""
    match = re.search(rf'(<textarea[^>]*id="{field_id}"[^>]*>)(.*?)</textarea>', html, re.S)
    assert match, f"no textarea #{field_id}"
    return match.group(1), unescape(match.group(2)).removeprefix("\r\n")
