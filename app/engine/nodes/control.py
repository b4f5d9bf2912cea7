"""Nodes that finish in the step they are entered: start, end, condition, transform, notify,
parallel and join (join waits only for its sibling branches)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from app.engine import effects as fx
from app.engine.compiling import Collector
from app.engine.nodes.base import ANY, NodeType, compile_schema, obj, register
from app.engine.state import Status

if TYPE_CHECKING:
    from app.engine.machine import Run
    from app.engine.model import Node
    from app.engine.state import Slot

MAPPING = {"data": ANY, "transformer": {"enum": ["jmes", "template"]}}


# start ---------------------------------------------------------------------------------------
def _prepare_start(config: dict[str, Any], col: Collector) -> Any:
    return SimpleNamespace(validator=compile_schema(config.get("schema"), col, "config.schema"))


def _enter_start(run: Run, slot: Slot, node: Node) -> None:
    # The runner's initial data (seed 001's `data`) seeds the store.
    if slot.data is not None:
        run.merge(slot.data)
    run.complete(slot, node, slot.data)


register(NodeType("start", obj({"schema": {"type": "object"}}), "auto", _enter_start,
                  prepare=_prepare_start))


# end -----------------------------------------------------------------------------------------
def _enter_end(run: Run, slot: Slot, node: Node) -> None:
    status = Status(node.config.get("status", "succeeded"))
    run.close(slot, "succeeded", output=slot.data)
    # The message is the runner's outcome either way ("Not approved" can well be a success).
    run.finish(status, node.config.get("message"), node=node.name)


register(NodeType("end", obj({"status": {"enum": ["succeeded", "failed"]},
                              "message": {"type": "string"}}), "auto", _enter_end))


# condition -----------------------------------------------------------------------------------
def _enter_condition(run: Run, slot: Slot, node: Node) -> None:
    run.complete(slot, node, slot.data)


register(NodeType("condition", obj({}), "auto", _enter_condition))


# transform -----------------------------------------------------------------------------------
def _prepare_transform(config: dict[str, Any], col: Collector) -> Any:
    return col.mapping({"data": config.get("data"),
                        "transformer": config.get("transformer", "jmes")}, "config")


def _enter_transform(run: Run, slot: Slot, node: Node) -> None:
    out = node.compiled.apply(run.context(slot.data), run.clock)
    run.merge(out)
    run.complete(slot, node, out)


register(NodeType("transform", obj(MAPPING, required=("data",)), "auto", _enter_transform,
                  prepare=_prepare_transform))


# notify --------------------------------------------------------------------------------------
def _prepare_notify(config: dict[str, Any], col: Collector) -> Any:
    return col.template(config, "config")


def _enter_notify(run: Run, slot: Slot, node: Node) -> None:
    rendered = node.compiled.render(run.context(slot.data), clock=run.clock)
    run.emit(fx.Notify(node.name, rendered))
    run.complete(slot, node, slot.data)


register(NodeType("notify", obj({
    "channel": {"enum": ["email", "sms", "webhook", "in_app"]},
    "to": ANY, "subject": {"type": "string"}, "body": ANY, "template": {"type": "string"},
}, required=("channel", "to")), "auto", _enter_notify, prepare=_prepare_notify))


# parallel / join -----------------------------------------------------------------------------
def _enter_parallel(run: Run, slot: Slot, node: Node) -> None:
    run.fork(slot, node, node.config["join"])


register(NodeType("parallel", obj({"join": {"type": "string"}}, required=("join",)), "auto",
                  _enter_parallel))


def _arrive_join(run: Run, slot: Slot, node: Node, data: Any = None) -> None:
    """Count one branch in; the last one moves on. A join no fork counts passes straight on."""
    remaining = run.state.joins.get(node.name)
    if remaining is not None:
        remaining -= 1
        if remaining > 0:
            run.state.joins[node.name] = remaining
            if slot.status != "waiting":
                run.wait(slot)
            return
        del run.state.joins[node.name]
    run.complete(slot, node, data if data is not None else slot.data)


def _enter_join(run: Run, slot: Slot, node: Node) -> None:
    _arrive_join(run, slot, node, slot.data)


register(NodeType("join", obj({}), "wait", _enter_join, resume=_arrive_join))
