"""The warehouse: runners' stores across one flow, projected with JMESPath, as JSON rows or CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from sqlalchemy import select

from app.extensions import db
from app.models import Flow, Runner, Store
from app.services import errors
from app.services.pagination import DEFAULT_LIMIT, Page
from app.services.principal import Principal
from app.services.runner_queries import RunnerFilter, list_runners

READER_KINDS = ("staff", "api", "system")
MAX_PROJECTION = 2000
ROW_COLUMNS = ("runner_id", "ref_id", "status", "stage", "created_at")
# A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class WarehouseQuery:
    flow_id: str
    projection: str | None = None  # JMESPath over each store; None: the whole store
    where: RunnerFilter = field(default_factory=RunnerFilter)


def _invalid_projection(message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed("Invalid projection.", [errors.FieldError("projection", message)])


@lru_cache(maxsize=256)
def _compile(projection: str) -> Any:
    try:
        return jmespath.compile(projection)
    except JMESPathError as error:
        raise _invalid_projection(f"Not a JMESPath expression: {error}") from None


def query(actor: Principal, spec: WarehouseQuery, *, limit: int = DEFAULT_LIMIT,
          continuation_token: str | None = None) -> Page[dict[str, Any]]:
    """One page of `{runner_id, ref_id, status, stage, created_at, data}` rows, newest runner first."""
    if actor.kind not in READER_KINDS:
        raise errors.PermissionDenied("Only staff and API clients query the warehouse.")
    if spec.projection is not None and not 0 < len(spec.projection) <= MAX_PROJECTION:
        raise _invalid_projection(f"Between 1 and {MAX_PROJECTION} characters.")
    expression = _compile(spec.projection) if spec.projection is not None else None
    flow = db.session.scalar(select(Flow).where(Flow.id == spec.flow_id, Flow.company_id == actor.company_id))
    if flow is None:
        raise errors.NotFound("No such flow.")
    where = replace(spec.where, flow_id=flow.id)
    page = list_runners(actor, where, limit=limit, continuation_token=continuation_token)
    stores = {s.id: s.data for s in db.session.scalars(
        select(Store).where(Store.id.in_([r.store_id for r in page.items])))} if page.items else {}
    rows = [_row(runner, stores.get(runner.store_id) or {}, expression) for runner in page.items]
    return Page(rows, page.continuation_token)


def _row(runner: Runner, data: dict[str, Any], expression: Any) -> dict[str, Any]:
    try:
        value = data if expression is None else expression.search(data)
    except JMESPathError as error:  # e.g. a function given the wrong type for this store
        raise _invalid_projection(f"Fails on runner {runner.ref_id}: {error}") from None
    return {"runner_id": runner.id, "ref_id": runner.ref_id, "status": runner.status,
            "stage": runner.stage, "created_at": runner.created_at, "data": value}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV: the fixed columns, then one column per key of projected objects (in order
    of first appearance), or one `value` column for anything else. Nested values are JSON."""
    keys: list[str] = []
    for row in rows:
        if isinstance(row["data"], dict):
            keys += [str(k) for k in row["data"] if str(k) not in keys]
    scalar = any(not isinstance(row["data"], dict) for row in rows)
    header = [*ROW_COLUMNS, *keys, *(["value"] if scalar or not keys else [])]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        data = row["data"]
        cells = [row["runner_id"], row["ref_id"], row["status"], row["stage"],
                 row["created_at"].isoformat()]
        cells += [data.get(k) if isinstance(data, dict) else None for k in keys]
        if len(header) > len(cells):
            cells.append(None if isinstance(data, dict) else data)
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()

