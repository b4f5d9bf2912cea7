"""The Warehouse endpoint: runners' stores across a flow, projected with JMESPath, as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from app.api import v1
from app.api.auth import principal
from app.api.runner_schemas import WarehousePageSchema, WarehouseQuerySchema
from app.services import warehouse
from app.services.runner_queries import RunnerFilter

TOKEN_HEADER = "Continuation-Token"  # noqa: S105  a header name
# Both media types spelled out: a manual `content` replaces the generated one rather than merging.
CSV_DOC = {"200": {
    "description": "One page of rows",
    "content": {"application/json": {"schema": WarehousePageSchema},
                "text/csv": {"schema": {"type": "string"}}},
    "headers": {TOKEN_HEADER: {"description": "The next page's token (CSV only); absent on the last page",
                               "schema": {"type": "string"}}},
}}


@v1.route("/rego/warehouse/", methods=["GET"], tags=["Warehouse"])
@v1.operation("Warehouse", errors=(400, 401, 403, 404, 422), description=(
    "One page of the flow's runners (newest first), each with its store projected by the JMESPath "
    "`projection` (the whole store without one). `format=csv` answers CSV: the runner columns, "
    "then one column per projected key. A projection that is not JMESPath is a 422."))
@v1.arguments(WarehouseQuerySchema, location="query")
@v1.response(200, WarehousePageSchema)
@v1.doc(responses=CSV_DOC)
def query_warehouse(query: dict[str, Any]) -> Any:
    spec = warehouse.WarehouseQuery(flow_id=query["flow_id"], projection=query.get("projection"),
                                    where=RunnerFilter(**{k: query.get(k) for k in (
                                        "status", "stage", "created_after", "created_before")}))
    page = warehouse.query(principal(), spec, limit=query["limit"],
                           continuation_token=query.get("continuation_token"))
    if query["format"] == "csv":
        response: Response = current_app.response_class(warehouse.to_csv(page.items), mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=warehouse.csv"
        if page.continuation_token:
            response.headers[TOKEN_HEADER] = page.continuation_token
        return response
    return {"items": page.items, "continuation_token": page.continuation_token}
