"""The peer: SpiffWorkflow (a bench-only dependency) running the equivalent process, in memory and
durably (the whole workflow serialised to JSON plus a task row, committed after every task)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, create_engine, insert, update

from app.models import sqlite as _sqlite_pragmas  # noqa: F401  WAL, synchronous=NORMAL, as Flowdesk
from bench import designs
from bench.stats import median

try:  # the peer is optional: without it the report says "not measured" instead of failing
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState
    from SpiffWorkflow.version import __version__ as VERSION
except ImportError:  # pragma: no cover - depends on the environment
    VERSION = None

META = MetaData()
WORKFLOWS = Table("spiff_workflows", META, Column("id", String(36), primary_key=True),
                  Column("serialization", Text, nullable=False))
TASKS = Table("spiff_tasks", META, Column("id", String(36), primary_key=True),
              Column("workflow_id", String(36), nullable=False), Column("spec", String(80)),
              Column("state", String(16)), Column("data", Text))

_SPECS: dict[tuple[int, bool], Any] = {}


def available() -> bool:
    return VERSION is not None


def spec(tasks: int, *, wait_first: bool = False) -> Any:
    """The parsed process, once per shape: parsing is not what we compare."""
    key = (tasks, wait_first)
    if key not in _SPECS:
        parser = BpmnParser()
        parser.add_bpmn_str(designs.spiff_linear_bpmn(tasks, wait_first=wait_first))
        _SPECS[key] = parser.get_spec("linear")
    return _SPECS[key]


def _run(workflow: Any, after_task: Any = None) -> int:
    """Run every ready automatic task one at a time, calling `after_task` after each; return the count."""
    done = 0
    while True:
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
        if not ready:
            return done
        task = ready[0]
        if done == 0:
            task.set_data(x=1)
        task.run()
        done += 1
        if after_task is not None:
            after_task(task)


def memory_tasks_per_second(tasks: int = 50, runs: int = 20) -> float:
    process = spec(tasks)
    began, done = time.perf_counter(), 0
    for _ in range(runs):
        workflow = BpmnWorkflow(process)
        done += _run(workflow)
        if not workflow.is_completed():
            raise RuntimeError("the Spiff workflow did not complete")
    return done / (time.perf_counter() - began)


def durable_tasks_per_second(engine: Engine, tasks: int = 50, runs: int = 3) -> float:
    """Every task: serialise the whole workflow, update its row, insert a task row, commit."""
    process, serializer = spec(tasks), BpmnWorkflowSerializer()
    began, done = time.perf_counter(), 0
    with engine.connect() as conn:
        for _ in range(runs):
            workflow, workflow_id = BpmnWorkflow(process), str(uuid.uuid4())
            conn.execute(insert(WORKFLOWS).values(id=workflow_id,
                                                  serialization=serializer.serialize_json(workflow)))
            conn.commit()

            def persist(task: Any, workflow: Any = workflow, workflow_id: str = workflow_id) -> None:
                conn.execute(update(WORKFLOWS).where(WORKFLOWS.c.id == workflow_id)
                             .values(serialization=serializer.serialize_json(workflow)))
                conn.execute(insert(TASKS).values(
                    id=str(uuid.uuid4()), workflow_id=workflow_id, spec=task.task_spec.name,
                    state=TaskState.get_name(task.state), data=json.dumps(task.data, default=str)))
                conn.commit()

            done += _run(workflow, persist)
    return done / (time.perf_counter() - began)


def waiting_instance_bytes(tasks: int = 50) -> int:
    """Size of the serialised instance of the equivalent process waiting at its first user task."""
    workflow = BpmnWorkflow(spec(tasks, wait_first=True))
    _run(workflow)
    waiting = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    if workflow.is_completed() or not waiting:
        raise RuntimeError("the Spiff workflow should wait at its user task")
    return len(BpmnWorkflowSerializer().serialize_json(workflow).encode())


def durable(url: str, tasks: int, rounds: int) -> float:
    """Median over `rounds` of durable tasks/s on the database at `url` (tables of its own)."""
    engine = create_engine(url)
    META.create_all(engine)
    try:
        durable_tasks_per_second(engine, tasks, runs=1)  # warm: statements compiled, pages cached
        return median([durable_tasks_per_second(engine, tasks, runs=2) for _ in range(rounds)])
    finally:
        META.drop_all(engine)
        engine.dispose()


def memory(tasks: int, rounds: int) -> float:
    memory_tasks_per_second(tasks, runs=2)
    return median([memory_tasks_per_second(tasks) for _ in range(rounds)])


def durable_once(url: str, tasks: int) -> float:
    """One run only: the 200-task flow costs seconds per run (its whole JSON is rewritten per task)."""
    engine = create_engine(url)
    META.create_all(engine)
    try:
        return durable_tasks_per_second(engine, tasks, runs=1)
    finally:
        META.drop_all(engine)
        engine.dispose()
