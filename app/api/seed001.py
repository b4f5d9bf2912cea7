"""Seed 001's `POST /flow/api/runners/`: a customer's runner by email or mobile, Basic or Bearer auth.

A separate blueprint at /flow/api (the path clients of seed 001 already call), authenticated by
the same code as /v1 and documented in the same OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from app.api.auth import authenticate_request, principal
from app.api.conventions import ApiBlueprint, errors_on
from app.api.idempotency import idempotent
from app.api.runner_schemas import RunnerDetailSchema, Seed001RunnerSchema
from app.services import customer_auth, customers, runner_queries, runners

flow_api = ApiBlueprint("flow_api", __name__, url_prefix="/flow/api")
flow_api.before_request(authenticate_request)


@flow_api.route("/runners/", methods=["POST"], tags=["Flow"])
@flow_api.operation("Create Runner", errors=(400, 401, 403, 404, 409, 422), description=(
    "Seed 001: creates (or, with `create_if_not_exists`, finds) the customer by `mobile` (E.164; "
    "numbers without a country code are Indian) or `email` (lower-cased) and starts a runner of "
    "the flow for them; with `action`, also submits it with `data`. An unknown customer with "
    "`create_if_not_exists: false` is a 404."))
@idempotent
@flow_api.arguments(Seed001RunnerSchema)
@flow_api.response(201, RunnerDetailSchema)
def create_customer_runner(body: dict[str, Any]) -> dict[str, Any]:
    actor = principal()
    # The flow first: an unknown flow must not leave a new customer behind.
    version = runners.resolve_version(actor.company_id, flow_id=body["flow_id"])
    customer = customers.find_or_create_customer(
        actor, mobile=body.get("mobile"), email=body.get("email"), create=body["create_if_not_exists"])
    # `type: "customer"`: the caller files the customer's application, so the first step is
    # submitted as that customer (the design's customer permissions apply, not the caller's role).
    on_behalf = customer_auth.customer_principal(customer) if body.get("type") == "customer" else None
    with errors_on("", "data"):
        outcome = runners.start_runner(actor, version, data=body.get("data"), customer_id=customer.id,
                                       action=body.get("action"), act_as=on_behalf)
    return runner_queries.runner_view(outcome.runner)
