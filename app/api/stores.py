"""Store endpoints under /v1/rego/stores/: standalone and runners' stores."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.api import v1
from app.api.auth import principal
from app.api.idempotency import idempotent
from app.api.runner_schemas import StoreCreateSchema, StorePageSchema, StoreSchema
from app.api.schemas import ListQuerySchema
from app.models import Store
from app.services import stores

TAG = ["Store"]


def _views(items: list[Store]) -> list[dict[str, Any]]:
    owners = stores.runner_ids_for_stores(items)
    return [{"id": s.id, "company_id": s.company_id, "runner_id": owners.get(s.id), "data": s.data or {},
             "version": s.version, "created_at": s.created_at, "updated_at": s.updated_at} for s in items]


@v1.route("/rego/stores/", methods=["POST"], tags=TAG)
@v1.operation("Create Store", errors=(400, 401, 403, 409, 422), description=(
    "A standalone store, tied to no runner. Admins and credit officers."))
@idempotent
@v1.arguments(StoreCreateSchema)
@v1.response(201, StoreSchema)
def create_store(body: dict[str, Any]) -> dict[str, Any]:
    return _views([stores.create_store(principal(), data=body["data"])])[0]


@v1.route("/rego/stores/", methods=["GET"], tags=TAG)
@v1.operation("List Store", description="Every store of the company, runners' and standalone, newest first.")
@v1.arguments(ListQuerySchema, location="query")
@v1.response(200, StorePageSchema)
def list_stores(query: dict[str, Any]) -> dict[str, Any]:
    page = stores.list_stores(principal(), **query)
    return {"items": _views(page.items), "continuation_token": page.continuation_token}


@v1.route("/rego/stores/<uuid:store_id>/", methods=["GET"], tags=TAG)
@v1.operation("Get Store", errors=(400, 401, 403, 404, 422))
@v1.response(200, StoreSchema)
def get_store(store_id: UUID) -> dict[str, Any]:
    return _views([stores.get_store(principal(), str(store_id))])[0]
