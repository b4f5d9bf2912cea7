"""`GET /v1/whoami/`: who the credentials belong to; the smallest authenticated endpoint."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from app.api import v1
from app.api.auth import principal
from app.api.schemas import BaseSchema


class WhoAmISchema(BaseSchema):
    kind = fields.String(required=True, metadata={"description": "staff, api, customer or system"})
    id = fields.String(required=True)
    company_id = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    name = fields.String(required=True)


@v1.route("/whoami/", methods=["GET"], tags=["Meta"])
@v1.operation("Who Am I", errors=(401,))
@v1.response(200, WhoAmISchema)
def whoami() -> dict[str, Any]:
    caller = principal()
    return {"kind": caller.kind, "id": caller.id, "company_id": caller.company_id,
            "roles": sorted(caller.roles), "name": caller.name}
