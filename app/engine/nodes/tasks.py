"""Nodes whose work a service performs: api_call, code_snippet and subflow."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from app.engine import effects as fx
from app.engine.compiling import Collector
from app.engine.nodes.base import ANY, NodeFailure, NodeType, obj, register

if TYPE_CHECKING:
    from app.engine.machine import Run
    from app.engine.model import Node
    from app.engine.state import Pending, Slot

# The request part of an api_call config, rendered only at perform time (it may use SECRET).
REQUEST_FIELDS = ("method", "url", "headers", "query", "body", "body_type", "timeout",
                  "response_type", "auth_token_config", "encryption_config")
_STR_OR_OBJ = {"type": ["object", "string"]}


# api_call ------------------------------------------------------------------------------------
def _prepare_api(config: dict[str, Any], col: Collector) -> Any:
    request = {k: config[k] for k in REQUEST_FIELDS if k in config}
    request.setdefault("method", "get")
    request.setdefault("body_type", "json")
    request.setdefault("response_type", "json")
    response_map = config.get("response_map") or {}
    return SimpleNamespace(
        request=col.template(request, "config"),
        response_map={key: col.jmes(src, f"config.response_map.{key}")
                      for key, src in response_map.items()})


def _call(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
    key = f"{run.state.runner_id}:{node.name}:{slot.visit}:{pending.attempt}"
    return fx.CallHttp(pending.effect_id, node.name, pending.attempt, key)


def _enter_api(run: Run, slot: Slot, node: Node) -> None:
    run.emit(_call(run, slot, node, run.pend(slot, "http")))


def _resume_api(run: Run, slot: Slot, node: Node, result: Any) -> None:
    """`result` is `{"status", "headers", "body"}`; response_map picks store keys out of it."""
    if node.compiled.response_map:
        run.merge({key: path.search(result) for key, path in node.compiled.response_map.items()})
    run.complete(slot, node, result)


register(NodeType("api_call", obj({
    "method": {"type": "string"}, "url": {"type": "string", "minLength": 1},
    "headers": _STR_OR_OBJ, "query": _STR_OR_OBJ, "body": ANY,
    "body_type": {"enum": ["json", "form", "raw"]}, "timeout": {"type": ["number", "string"]},
    "response_type": {"enum": ["json", "text"]},
    "auth_token_config": _STR_OR_OBJ, "encryption_config": _STR_OR_OBJ,
    "response_map": {"type": "object", "additionalProperties": {"type": "string"}},
}, required=("url",)), "effect", _enter_api, prepare=_prepare_api, resume=_resume_api,
    derive=_call, may_use_secrets=True))


# code_snippet --------------------------------------------------------------------------------
def _run_code(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
    return fx.RunCode(pending.effect_id, node.name, pending.attempt, node.config["code"],
                      slot.data, run.state.store)


def _enter_code(run: Run, slot: Slot, node: Node) -> None:
    run.emit(_run_code(run, slot, node, run.pend(slot, "code")))


def _resume_code(run: Run, slot: Slot, node: Node, result: Any) -> None:
    if not isinstance(result, dict):
        raise NodeFailure("code_snippet main() must return a dict", retryable=False)
    run.merge(result)
    run.complete(slot, node, result)


register(NodeType("code_snippet", obj({"code": {"type": "string", "minLength": 1},
                                       "timeout": {"type": "number", "exclusiveMinimum": 0}},
                                      required=("code",)),
                  "effect", _enter_code, resume=_resume_code, derive=_run_code))


# subflow -------------------------------------------------------------------------------------
def _prepare_subflow(config: dict[str, Any], col: Collector) -> Any:
    return SimpleNamespace(
        input=col.mapping({"data": config.get("input", "data"), "transformer": "jmes"},
                          "config.input"),
        output=col.mapping({"data": config["output"], "transformer": "jmes"}, "config.output")
        if config.get("output") else None)


def _start_child(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
    data = node.compiled.input.apply(run.context(slot.data), run.clock)
    return fx.StartChild(pending.effect_id, node.name, node.config["flow"],
                         node.config.get("version"), data)


def _enter_subflow(run: Run, slot: Slot, node: Node) -> None:
    effect = _start_child(run, slot, node, run.pend(slot, "child"))
    run.emit(effect)


def _resume_subflow(run: Run, slot: Slot, node: Node, result: Any) -> None:
    """`data` in the output mapping is the child's result (its store)."""
    if node.compiled.output is not None:
        run.merge(node.compiled.output.apply(run.context(result), run.clock))
    run.complete(slot, node, result)


register(NodeType("subflow", obj({
    "flow": {"type": "string", "minLength": 1}, "version": {"type": "integer"},
    "input": _STR_OR_OBJ, "output": _STR_OR_OBJ,
}, required=("flow",)), "wait", _enter_subflow, prepare=_prepare_subflow,
    resume=_resume_subflow, derive=_start_child))
