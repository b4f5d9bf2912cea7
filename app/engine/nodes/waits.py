"""Nodes that wait for the outside world or time: callback and timer."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from app.engine import effects as fx
from app.engine.compiling import Collector
from app.engine.nodes.base import NodeFailure, NodeType, compile_schema, obj, register

if TYPE_CHECKING:
    from app.engine.machine import Run
    from app.engine.model import Node
    from app.engine.state import Pending, Slot


# callback ------------------------------------------------------------------------------------
def _prepare_callback(config: dict[str, Any], col: Collector) -> Any:
    return SimpleNamespace(validator=compile_schema(config.get("schema"), col, "config.schema"))


def _await(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
    return fx.AwaitCallback(pending.effect_id, node.name, pending.token or "")


def _enter_callback(run: Run, slot: Slot, node: Node) -> None:
    # Unguessable: the token is the only thing tying an inbound POST to this runner.
    pending = run.pend(slot, "callback", token=secrets.token_urlsafe(24))
    run.emit(_await(run, slot, node, pending))


def _resume_callback(run: Run, slot: Slot, node: Node, data: Any) -> None:
    store_as = node.config.get("store_as")
    if store_as:
        run.merge({store_as: data})
    run.complete(slot, node, data)


register(NodeType("callback", obj({"schema": {"type": "object"}, "store_as": {"type": "string"}}),
                  "wait", _enter_callback, prepare=_prepare_callback, resume=_resume_callback,
                  derive=_await))


# timer ---------------------------------------------------------------------------------------
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(value: Any) -> timedelta | None:
    """Seconds as a number, or an ISO 8601 duration such as `PT15M` or `P2DT3H`; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return timedelta(seconds=value) if value >= 0 else None
    match = _DURATION.match(value) if isinstance(value, str) and value != "P" else None
    if match is None or value.endswith("T"):
        return None
    return timedelta(**{k: float(v) for k, v in match.groupdict().items() if v})


def _prepare_timer(config: dict[str, Any], col: Collector) -> Any:
    duration = None
    if "duration" in config:
        duration = parse_duration(config["duration"])
        if duration is None:
            col.add("bad_config", "duration must be seconds or an ISO 8601 duration like PT15M",
                    "config.duration")
    until = col.template(config["until"], "config.until") if "until" in config else None
    return SimpleNamespace(duration=duration, until=until)


def _due(run: Run, slot: Slot, node: Node) -> datetime:
    if node.compiled.duration is not None:
        return run.clock() + node.compiled.duration
    value = node.compiled.until.render(run.context(slot.data), clock=run.clock)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise NodeFailure(f"'until' is not an ISO timestamp: {value[:40]!r}",
                              retryable=False) from None
    if not isinstance(value, datetime):
        raise NodeFailure("'until' must render to a timestamp", retryable=False)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _schedule(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
    return fx.ScheduleTimer(pending.effect_id, node.name, pending.due_at, "timer")  # type: ignore[arg-type]


def _enter_timer(run: Run, slot: Slot, node: Node) -> None:
    due = _due(run, slot, node)
    if due <= run.clock():
        run.complete(slot, node, slot.data)
        return
    run.emit(_schedule(run, slot, node, run.pend(slot, "timer", due_at=due)))


def _resume_timer(run: Run, slot: Slot, node: Node, data: Any) -> None:
    run.complete(slot, node, slot.data)


register(NodeType("timer", obj({"duration": {"type": ["number", "string"]},
                                "until": {"type": "string"}},
                               oneOf=[{"required": ["duration"]}, {"required": ["until"]}]),
                  "wait", _enter_timer, prepare=_prepare_timer, resume=_resume_timer,
                  derive=_schedule))
