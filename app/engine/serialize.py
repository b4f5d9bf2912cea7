"""RunnerState <-> JSON-safe dicts, with a schema version and an upgrade chain for old documents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.engine.errors import InvalidState
from app.engine.state import ExecutionRecord, Pending, RunnerState, Slot, Status

SCHEMA_VERSION = 1
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]
# UPGRADES[n] turns a version-n document into version n+1; load_state applies them in turn.
UPGRADES: dict[int, Upgrade] = {}


def upgrade(from_version: int) -> Callable[[Upgrade], Upgrade]:
    """Register the step from `from_version` to `from_version + 1`."""

    def register(fn: Upgrade) -> Upgrade:
        UPGRADES[from_version] = fn
        return fn

    return register


@upgrade(0)
def _v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """v0 (one `current_node`, as the runners of seed 001 report it) to v1 (slots, pending)."""
    current = doc.get("current_node")
    status = doc.get("status") or ("waiting" if current else "succeeded")
    return {
        "schema_version": 1, "runner_id": doc["runner_id"], "design_key": doc.get("design_id", ""),
        "status": status, "seq": 0, "error": None, "failed_node": None,
        "slots": [{"node": current, "visit": 0, "attempt": 1, "status": "waiting"}]
        if current else [],
        "pending": [], "joins": {}, **({"store": doc["store"]} if "store" in doc else {}),
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def record_to_dict(record: ExecutionRecord, *, with_input: bool = True) -> dict[str, Any]:
    """An execution record as JSON-safe data (what services store per node visit)."""
    out = {"id": record.id, "node": record.node, "attempt": record.attempt,
           "status": record.status, "action": record.action, "actor": record.actor,
           "output": record.output, "error": record.error,
           "started_at": _time(record.started_at), "finished_at": _time(record.finished_at)}
    if with_input:
        out["input"] = record.input
    return out


def dump_state(state: RunnerState, *, include_store: bool = True) -> dict[str, Any]:
    """JSON-safe state with `schema_version`; pass include_store=False to store the store apart.

    The history of visits is not part of the state (it leaves as WriteExecution effects), so
    the document stays small however long the runner lives.
    """
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "runner_id": state.runner_id,
        "design_key": state.design_key,
        "status": state.status.value,
        "seq": state.seq,
        "error": state.error,
        "failed_node": state.failed_node,
        "slots": [{
            "node": s.node, "visit": s.visit, "attempt": s.attempt, "status": s.status,
            "data": s.data, "effect_id": s.effect_id,
            # the open record's input is the slot's data: stored once
            "record": record_to_dict(s.record, with_input=False) if s.record else None,
        } for s in state.slots.values()],
        "pending": [{"effect_id": p.effect_id, "kind": p.kind, "node": p.node,
                     "attempt": p.attempt, "due_at": _time(p.due_at), "token": p.token}
                    for p in state.pending.values()],
        "joins": dict(state.joins),
    }
    if include_store:
        doc["store"] = state.store
    return doc


def _record(raw: dict[str, Any] | None, data: Any) -> ExecutionRecord | None:
    if raw is None:
        return None
    return ExecutionRecord(
        id=raw["id"], node=raw["node"], attempt=raw["attempt"], status=raw["status"],
        started_at=_parse(raw["started_at"]), input=data, action=raw.get("action"),  # type: ignore[arg-type]
        actor=raw.get("actor"), output=raw.get("output"), error=raw.get("error"),
        finished_at=_parse(raw.get("finished_at")))


def load_state(doc: dict[str, Any], *, store: dict[str, Any] | None = None) -> RunnerState:
    """Rebuild a RunnerState, upgrading older documents first; `store` overrides doc["store"]."""
    version = doc.get("schema_version", 0)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise InvalidState(f"runner state version {version!r} is newer than this engine "
                           f"({SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        if version not in UPGRADES:
            raise InvalidState(f"no upgrade from runner state version {version}")
        doc = UPGRADES[version](doc)
        version = doc["schema_version"]
    slots = {}
    for raw in doc["slots"]:
        data = raw.get("data")
        slots[raw["node"]] = Slot(node=raw["node"], visit=raw["visit"], attempt=raw["attempt"],
                                  status=raw["status"], data=data,
                                  record=_record(raw.get("record"), data),
                                  effect_id=raw.get("effect_id"))
    pending = {p["effect_id"]: Pending(p["effect_id"], p["kind"], p["node"], p["attempt"],
                                       _parse(p.get("due_at")), p.get("token"))
               for p in doc["pending"]}
    return RunnerState(
        runner_id=doc["runner_id"], design_key=doc.get("design_key", ""),
        status=Status(doc["status"]),
        store=store if store is not None else dict(doc.get("store") or {}),
        slots=slots, pending=pending, joins=dict(doc.get("joins") or {}), seq=doc["seq"],
        error=doc.get("error"), failed_node=doc.get("failed_node"))
