"""One `advance` call in progress: moving through nodes, retries, fallbacks and the end."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from app.engine import effects as fx
from app.engine.expressions import ExpressionError, LazyParams
from app.engine.model import AUTO, Design, Edge, Node
from app.engine.nodes.base import NodeFailure
from app.engine.state import BUSY_KINDS, ExecutionRecord, Pending, RunnerState, Slot, Status

Clock = Callable[[], datetime]
# A design may loop through waiting nodes forever, but one event must not spin without end.
MAX_STEPS_PER_EVENT = 10_000
# Awaited work a service keeps open in its own tables (inbox requests), withdrawn when the node is left.
WITHDRAW_ON_LEAVE = frozenset({"approval", "checklist", "documents"})
_EMPTY: Mapping[str, Any] = {}


def utcnow() -> datetime:
    return datetime.now(UTC)


def deep_merge(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `patch` into `target` in place; cost follows the patch, never the target."""
    for key, value in patch.items():
        if type(value) is dict:
            current = target.get(key)
            target[key] = deep_merge(current if type(current) is dict else {}, value)
        else:
            target[key] = value
    return target


class Run:
    """One `advance` call: the design, the state it mutates, the clock and the effects so far."""

    def __init__(self, design: Design, state: RunnerState, clock: Clock | None,
                 env: Mapping[str, Any] | None) -> None:
        self.design = design
        self.state = state
        self.clock: Clock = clock or utcnow
        self.env = env if env is not None else _EMPTY
        self.effects: list[fx.Effect] = []
        self.queue: deque[tuple[str, Any]] = deque()
        self.finished = False
        self.runner = {"id": state.runner_id, "design": design.key}
        self.params = self.params_with(_EMPTY) if design.params is not None else _EMPTY

    def params_with(self, extra: Mapping[str, Any]) -> Any:
        """The design's params rendered lazily against this runner (plus `extra` roots)."""
        base: dict[str, Any] = {"store": self.state.store, "RUNNER_ID": self.state.runner_id,
                                "runner": self.runner, "env": self.env, "data": None, **extra}
        params = LazyParams(self.design.params, lambda: base)
        base["params"] = params
        return params

    def context(self, data: Any) -> dict[str, Any]:
        """Names an expression may use, without SECRET (only `prepare_request` adds it)."""
        return {"data": data, "store": self.state.store, "params": self.params,
                "RUNNER_ID": self.state.runner_id, "runner": self.runner, "env": self.env}

    def now(self) -> datetime:
        return self.clock()

    def emit(self, effect: fx.Effect) -> None:
        self.effects.append(effect)

    def merge(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise NodeFailure(f"data to store must be an object, got {type(value).__name__}",
                              retryable=False)
        if value:
            deep_merge(self.state.store, value)
            self.state.store_changed = True

    # -- moving through nodes -------------------------------------------------------------
    def enter(self, name: str, data: Any) -> None:
        node = self.design.nodes[name]
        slot = self.state.slots.get(name)
        if slot is not None:
            if node.type.name == "join":
                self.guard(slot, node, node.type.resume, data)
                return
            self.fail_runner(slot, f"a second path reached node '{name}' while it was current")
            return
        self.state.seq += 1
        slot = Slot(node=name, visit=self.state.seq, data=data)
        self.state.slots[name] = slot
        self.attempt(slot, node)

    def attempt(self, slot: Slot, node: Node) -> None:
        slot.status = "running"
        slot.record = ExecutionRecord(
            id=self.state.next_id("x"), node=node.name, attempt=slot.attempt, status="running",
            started_at=self.clock(), input=slot.data)
        self.guard(slot, node, node.type.enter)

    def guard(self, slot: Slot, node: Node, step: Callable[..., None], *args: Any) -> None:
        """Run a handler step; a NodeFailure or expression error fails the attempt."""
        try:
            step(self, slot, node, *args)
        except NodeFailure as err:
            self.fail(slot, node, err.message, retryable=err.retryable)
        except ExpressionError as err:
            self.fail(slot, node, err.message, retryable=False)

    def pend(self, slot: Slot, kind: str, *, due_at: datetime | None = None,
             token: str | None = None) -> Pending:
        """Record awaited work for `slot` and mark the visit open (running or waiting)."""
        pending = Pending(self.state.next_id("e"), kind, slot.node, slot.attempt, due_at, token)
        self.state.pending[pending.effect_id] = pending
        slot.effect_id = pending.effect_id
        self._open(slot, "running" if kind in BUSY_KINDS else "waiting")
        return pending

    def wait(self, slot: Slot) -> None:
        """The node waits for an action or other branches; nothing is awaited from services."""
        self._open(slot, "waiting")

    def _open(self, slot: Slot, status: str) -> None:
        slot.status = status
        record = slot.record
        if record is not None:
            record.status = status
            # A copy: the open record is mutated again when the visit ends.
            self.emit(fx.WriteExecution(replace(record)))

    def choose(self, node: Node, action: str, output: Any,
               ctx: dict[str, Any] | None = None) -> tuple[Edge | None, dict[str, Any] | None]:
        """First edge for `action` whose condition holds; the context is built only if needed."""
        for edge in node.by_action.get(action, ()):
            if edge.condition is None:
                return edge, ctx
            if ctx is None:
                ctx = self.context(output)
            if edge.condition.evaluate(ctx, clock=self.clock):
                return edge, ctx
        return None, ctx

    def complete(self, slot: Slot, node: Node, output: Any, *, action: str = AUTO,
                 actor: str | None = None, edge: Edge | None = None) -> None:
        """Leave `node` by `edge` (or the first matching one), applying its return data."""
        ctx = None
        if edge is None:
            edge, ctx = self.choose(node, action, output)
            if edge is None:
                raise NodeFailure(f"no '{action}' edge whose condition holds", retryable=False)
        returned = None
        if edge.returns is not None:
            returned = edge.returns.apply(ctx or self.context(output), self.clock)
            self.merge(returned)
        if edge.type == "return":
            self.emit(fx.Reply(node.name, action, returned))
            now = self.clock()
            self.emit(fx.WriteExecution(ExecutionRecord(
                id=self.state.next_id("x"), node=node.name, attempt=slot.attempt,
                status="succeeded", started_at=now, input=output, action=action,
                actor=actor, output=returned, finished_at=now)))
            return
        self.close(slot, "succeeded", output=output, action=action, actor=actor)
        self.queue.append((edge.target, output))  # type: ignore[arg-type]

    def fork(self, slot: Slot, node: Node, join: str) -> None:
        """Leave `node` by every automatic edge whose condition holds, counting them at `join`."""
        ctx = self.context(slot.data)
        chosen = [e for e in node.by_action.get(AUTO, ())
                  if e.condition is None or e.condition.evaluate(ctx, clock=self.clock)]
        if not chosen:
            raise NodeFailure("no branch's condition holds", retryable=False)
        if join in self.state.joins:
            raise NodeFailure(f"join '{join}' is still waiting for an earlier fork",
                              retryable=False)
        for edge in chosen:
            if edge.returns is not None:
                self.merge(edge.returns.apply(ctx, self.clock))
        self.state.joins[join] = len(chosen)
        self.close(slot, "succeeded", output={"branches": [e.target for e in chosen]})
        self.queue.extend((e.target, slot.data) for e in chosen)  # type: ignore[misc]

    def close(self, slot: Slot, status: str, *, output: Any = None, action: str | None = None,
              actor: str | None = None, error: str | None = None) -> None:
        """End the visit: write its record and forget the slot and its awaited work."""
        record = slot.record
        if record is not None:
            record.status = status
            record.output = output
            record.action = action
            record.actor = actor
            record.error = error
            record.finished_at = self.clock()
            self.emit(fx.WriteExecution(record))
        self.state.slots.pop(slot.node, None)
        if slot.effect_id is not None:
            pending = self.state.pending.pop(slot.effect_id, None)
            if pending is not None and pending.kind in WITHDRAW_ON_LEAVE:
                # The node was left (by its own service's action or by a direct Execute Runner):
                # tell the service, which closes its request unless it completed it itself.
                self.emit(fx.Withdraw(pending.effect_id, pending.node, pending.kind))

    def fail(self, slot: Slot, node: Node, error: str, *, retryable: bool = True) -> None:
        """An attempt failed: retry later, else take the fallback edge, else fail the runner."""
        record = slot.record
        if record is not None:
            record.status, record.error, record.finished_at = "failed", error, self.clock()
            self.emit(fx.WriteExecution(record))
            slot.record = None
        if slot.effect_id is not None:
            self.state.pending.pop(slot.effect_id, None)
            slot.effect_id = None
        if retryable and slot.attempt < node.retry.maximum_attempts:
            due = self.clock() + node.retry.delay(slot.attempt)
            slot.attempt += 1
            pending = self.pend(slot, "retry", due_at=due)
            slot.status = "retrying"
            self.emit(fx.ScheduleTimer(pending.effect_id, node.name, due, "retry"))
            return
        if node.fallback is not None:
            info = {"error": error, "node": node.name, "attempt": slot.attempt}
            try:
                if node.fallback.returns is not None:
                    self.merge(node.fallback.returns.apply(self.context(info), self.clock))
            except (NodeFailure, ExpressionError) as err:
                error = f"{error}; fallback failed: {getattr(err, 'message', err)}"
            else:
                self.close(slot, "failed")
                self.queue.append((node.fallback.target, info))  # type: ignore[arg-type]
                return
        self.fail_runner(slot, error)

    def fail_runner(self, slot: Slot, error: str) -> None:
        slot.status = "failed"
        state = self.state
        state.failed_node = slot.node
        state.error = f"{slot.node}: {error}"
        state.status = Status.FAILED
        self.emit(fx.Finished(Status.FAILED.value, state.error))

    def finish(self, status: Status, error: str | None = None, *, node: str | None = None) -> None:
        """The runner ends (at end node `node`, if one ended it): close every other visit, withdraw
        awaited work, drop the queue. `error` is kept as the state's reason."""
        state = self.state
        for pending in state.pending.values():
            self.emit(fx.Withdraw(pending.effect_id, pending.node, pending.kind))
        state.pending.clear()  # withdrawn once, here; close() below must not withdraw again
        for slot in list(state.slots.values()):
            self.close(slot, "cancelled")
        state.slots.clear()
        state.joins.clear()
        self.queue.clear()
        state.status, state.error, state.failed_node = status, error, None
        self.finished = True
        self.emit(fx.Finished(status.value, error, node))

    def drain(self) -> None:
        steps = 0
        while self.queue:
            steps += 1
            if steps > MAX_STEPS_PER_EVENT:
                name, data = self.queue[0]
                slot = Slot(node=name, visit=self.state.seq, data=data)
                self.queue.clear()
                self.state.slots[name] = slot
                self.fail_runner(slot, f"more than {MAX_STEPS_PER_EVENT} steps in one event")
                return
            name, data = self.queue.popleft()
            self.enter(name, data)

    def settle(self) -> None:
        state = self.state
        if self.finished or state.status in (Status.SUCCEEDED, Status.CANCELLED):
            return
        if state.failed_node is not None:
            state.status = Status.FAILED
        elif not state.slots:
            state.status = Status.FAILED
            state.error = "the runner has no current node and did not reach an end"
            self.emit(fx.Finished(Status.FAILED.value, state.error))
        elif any(p.kind in BUSY_KINDS for p in state.pending.values()):
            state.status = Status.RUNNING
        else:
            state.status = Status.WAITING


