"""Factories for flows, design versions and runners, and a clock-free worker helper."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from app.extensions import db
from app.models import Company, DesignVersion, Flow
from app.services.principal import Principal


def checksum(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@pytest.fixture
def make_flow(make_company: Callable[..., Company]) -> Callable[..., tuple[Flow, DesignVersion]]:
    """A flow whose current design is `document` (version 1, or the next version of `flow`)."""
    counter = iter(range(1, 10_000))

    def make(document: dict[str, Any], *, company: Company | None = None, flow: Flow | None = None,
             slug: str | None = None, current: bool = True) -> tuple[Flow, DesignVersion]:
        if flow is None:
            company = company or make_company()
            n = next(counter)
            flow = Flow(company_id=company.id, name=f"Flow {n}", slug=slug or f"flow-{n}")
            db.session.add(flow)
            db.session.flush()
        number = 1 + len(db.session.query(DesignVersion).filter_by(flow_id=flow.id).all())
        version = DesignVersion(company_id=flow.company_id, flow_id=flow.id, version=number,
                                name=f"v{number}", document=document, checksum=checksum(document),
                                is_valid=True)
        db.session.add(version)
        db.session.flush()
        if current:
            flow.current_design_id = version.id
        db.session.commit()
        return flow, version

    return make


@pytest.fixture
def officer(make_user: Callable[..., Any]) -> Callable[[Company], Principal]:
    def make(company: Company, roles: tuple[str, ...] = ("credit_officer",)) -> Principal:
        return Principal.for_user(make_user(company, roles=roles))

    return make


def form_design(*, after: list[dict[str, Any]] | None = None, first_target: str = "done",
                roles: tuple[str, ...] = ("credit_officer", "admin", "customer")) -> dict[str, Any]:
    """start → apply (form: name, amount) → [after...] → done."""
    nodes = [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "apply"}]},
        {"name": "apply", "type": "form", "stage": "application",
         "config": {"schema": {"type": "object", "required": ["name", "amount"],
                               "properties": {"name": {"type": "string", "minLength": 1},
                                              "amount": {"type": "number", "minimum": 1}}}},
         "permissions": [{"roles": list(roles), "actions": ["submit"]}],
         "edges": [{"action": "submit", "type": "goto", "target_node": first_target,
                    "return": {"transformer": "jmes", "data": {"application": "data"}}}]},
        *(after or []),
        {"name": "done", "type": "end", "stage": "closed"},
    ]
    return {"start_node": "start", "nodes": nodes}
