"""Designs and helpers the runner, store, warehouse and seed-001 API tests share."""

from __future__ import annotations

import copy
from typing import Any

from tests.api.conftest import SEED_001_PARAMS

PEOPLE = ["admin", "credit_officer", "customer"]
SEED000_EXECUTE = {"action": "auto", "data": {}}  # seed 000's Execute Runner body, verbatim
KYC_SCHEMA = {"type": "object", "properties": {"pan": {"type": "string"}, "amount": {"type": "number"}}}

# start -> welcome (left by seed 000's `auto` action) -> kyc (a quote `return` edge, submit) -> done
SEED000_DESIGN: dict[str, Any] = {
    "name": "Seed 000", "start_node": "start",
    "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "welcome"}]},
        {"name": "welcome", "type": "form", "stage": "intro", "config": {"schema": {"type": "object"}},
         "permissions": [{"roles": PEOPLE, "actions": ["auto"]}],
         "edges": [{"type": "goto", "target_node": "kyc"}]},
        {"name": "kyc", "type": "form", "stage": "kyc", "config": {"schema": KYC_SCHEMA},
         "permissions": [{"roles": PEOPLE, "actions": ["quote", "submit"]}],
         "edges": [
             {"action": "quote", "type": "return",
              "return": {"transformer": "jmes", "data": {"quote": {"amount": "data.amount"}}}},
             {"action": "submit", "type": "goto", "target_node": "done",
              "return": {"transformer": "jmes", "data": {"applicant": "data"}}}]},
        {"name": "done", "type": "end", "stage": "closed"},
    ],
}


def seed000_design(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SEED000_DESIGN), **changes}


def seed001_design() -> dict[str, Any]:
    """Seed 000's graph with seed 001's real params block (SECRET templates and all)."""
    return seed000_design(name="Seed 001", params=copy.deepcopy(SEED_001_PARAMS))


SECRETS = {
    "idfc": {"auth_host": "https://auth.idfc.example", "client_id": "client-id-TOPSECRET",
             "jwt_host": "https://jwt.idfc.example", "jwks": "-----BEGIN KEY TOPSECRET-----",
             "encryption_key": "enc-key-TOPSECRET"},
    "storage": {"vendor": "s3-TOPSECRET"},
}
