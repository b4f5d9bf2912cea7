"""Nodes that wait for people: form, approval, checklist and document."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from app.engine import effects as fx
from app.engine.compiling import Collector
from app.engine.nodes.base import ANY, NodeType, compile_schema, obj, register

if TYPE_CHECKING:
    from app.engine.machine import Run
    from app.engine.model import Node
    from app.engine.state import Pending, Slot

_SCHEMA = {"type": "object"}
_STRINGS = {"type": "array", "items": {"type": "string"}}


def _prepare_with_schema(config: dict[str, Any], col: Collector) -> Any:
    rest = {k: v for k, v in config.items() if k not in ("schema", "ui")}
    return SimpleNamespace(validator=compile_schema(config.get("schema"), col, "config.schema"),
                           template=col.template(rest, "config"))


def _waits(run: Run, slot: Slot, node: Node) -> None:
    run.wait(slot)


register(NodeType("form", obj({"schema": _SCHEMA, "ui": ANY, "store_as": {"type": "string"},
                               "title": {"type": "string"}}),
                  "wait", _waits, prepare=_prepare_with_schema, accepts_actions=True))


def _opener(kind: str, make: Callable[..., fx.Effect]) -> tuple[Callable, Callable]:
    """Handlers for a node that opens work in another service and then waits for an action."""

    def derive(run: Run, slot: Slot, node: Node, pending: Pending) -> fx.Effect:
        config = node.compiled.template.render(run.context(slot.data), clock=run.clock)
        return make(pending.effect_id, node.name, config)

    def enter(run: Run, slot: Slot, node: Node) -> None:
        run.emit(derive(run, slot, node, run.pend(slot, kind)))

    return enter, derive


_enter, _derive = _opener("approval", fx.OpenApproval)
register(NodeType("approval", obj({
    "title": {"type": "string"}, "description": {"type": "string"},
    "approvers": obj({"roles": _STRINGS, "users": _STRINGS}),
    "min_approvals": {"type": "integer", "minimum": 1}, "metadata": ANY,
    "schema": _SCHEMA, "store_as": {"type": "string"},
}, required=("approvers",)), "wait", _enter, prepare=_prepare_with_schema, derive=_derive,
    accepts_actions=True, service_decides=True,
    decided_through="its approval request (the inbox, or the approvals API)"))

_enter, _derive = _opener("checklist", fx.OpenChecklist)
register(NodeType("checklist", obj({
    "title": {"type": "string"}, "template_id": {"type": "string"},
    "items": {"type": "array", "items": obj({"key": {"type": "string"},
                                             "label": {"type": "string"},
                                             "required": {"type": "boolean"}},
                                            required=("key", "label"))},
    "schema": _SCHEMA, "store_as": {"type": "string"},
}, anyOf=[{"required": ["template_id"]}, {"required": ["items"]}]),
    "wait", _enter, prepare=_prepare_with_schema, derive=_derive, accepts_actions=True,
    service_decides=True, decided_through="its checklist (the inbox, or the checklists API)"))

_enter, _derive = _opener("documents", fx.RequestDocuments)
register(NodeType("document", obj({
    "title": {"type": "string"},
    "documents": {"type": "array", "minItems": 1,
                  "items": obj({"type": {"type": "string"}, "label": {"type": "string"},
                                "required": {"type": "boolean"}}, required=("type",))},
    "schema": _SCHEMA, "store_as": {"type": "string"},
}, required=("documents",)), "wait", _enter, prepare=_prepare_with_schema, derive=_derive,
    accepts_actions=True, service_decides=True,
    decided_through="its documents: it moves on once every required one has a file (the customer's "
                    "onboarding, or the documents API)"))
