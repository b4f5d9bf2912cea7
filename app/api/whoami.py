"""`GET /v1/whoami/`: who the credentials belong to; the smallest authenticated endpoint."""

from __future__ import annotations

from typing import Any

from app.api import v1
from app.api.auth import principal


@v1.get("/whoami/")
def whoami() -> dict[str, Any]:
    caller = principal()
    return {"kind": caller.kind, "id": caller.id, "company_id": caller.company_id,
            "roles": sorted(caller.roles), "name": caller.name}
