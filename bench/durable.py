"""The durable engine: runners executed through the services, persisted at every transition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from app.extensions import db
from app.services.principal import Principal
from app.services.runners import create_runner, execute_runner
from bench import designs, env
from bench.stats import Figure, median, percentile

PARALLEL_RUNNERS = 100
PARALLEL_THREADS = 8


def _runner(actor: Principal, version_id: str) -> str:
    outcome = create_runner(actor, design_id=version_id, data={"x": 1})
    if outcome.runner.current_nodes != ["gate"]:
        raise RuntimeError(f"runner should wait at the gate, is at {outcome.runner.current_nodes}")
    return outcome.runner.id


def _go(actor: Principal, runner_id: str) -> None:
    outcome = execute_runner(actor, runner_id, action="go", data={})
    if outcome.runner.current_nodes != ["gate"] or outcome.runner.status != "waiting":
        raise RuntimeError("the stretch did not come back to the gate")


def steps_per_second(actor: Principal, version_id: str, steps_per_go: int, *,
                     goes: int, rounds: int) -> float:
    """Node steps per second for one runner, from the median time of `rounds * goes` transitions
    (a median, not a mean: the machine is shared and a busy neighbour only slows some of them)."""
    runner_id = _runner(actor, version_id)
    _go(actor, runner_id)  # warm: design compiled, statements cached
    times = []
    for _ in range(rounds * goes):
        began = time.perf_counter()
        _go(actor, runner_id)
        times.append(time.perf_counter() - began)
    return steps_per_go / median(times)


def parallel_steps_per_second(app: Flask, actor: Principal, version_id: str,
                              steps_per_go: int) -> float:
    """100 runners, each doing one stretch, spread over threads with their own app contexts."""
    runner_ids = [_runner(actor, version_id) for _ in range(PARALLEL_RUNNERS)]
    db.session.remove()  # threads use sessions of their own
    failures: list[BaseException] = []

    def worker(mine: list[str]) -> None:
        with app.app_context():
            try:
                for runner_id in mine:
                    _go(actor, runner_id)
            except BaseException as error:  # reported after join; a silent thread would lie
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(runner_ids[i::PARALLEL_THREADS],))
               for i in range(PARALLEL_THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"parallel runners failed: {failures[0]!r}") from failures[0]
    return PARALLEL_RUNNERS * steps_per_go / elapsed


def latencies(actor: Principal, version_id: str, count: int) -> list[float]:
    """Milliseconds from Execute Runner to the runner waiting at its next node, one per call."""
    runner_id = _runner(actor, version_id)
    _go(actor, runner_id)
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        _go(actor, runner_id)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def run_on(kind: str, *, rounds: int = 3) -> list[Figure]:
    with env.database(kind) as url:
        app = env.make_app(url)
        with app.app_context():
            try:
                return _measure(app, kind, rounds)
            finally:
                db.session.remove()
                db.engine.dispose()


def _measure(app: Flask, kind: str, rounds: int) -> list[Figure]:
    actor = env.make_company()
    made: dict[str, str] = {}

    def version(name: str, document: dict[str, Any]) -> str:
        if name not in made:
            made[name] = env.make_flow(actor.company_id, document, name).id
        return made[name]

    section = f"durable ({kind})"
    figures: list[Figure] = []
    add: Callable[..., None] = lambda case, unit, value, **kw: figures.append(  # noqa: E731  brevity
        Figure(section, case, unit, value, **kw))
    for shape in ("linear", "branching"):
        steps = designs.stretch_steps(50, kind=shape)
        v = version(f"stretch-50-{shape}", designs.stretch(50, kind=shape))
        add(f"{shape} 50-node stretch, one runner", "node steps/s",
            steps_per_second(actor, v, steps, goes=5, rounds=rounds), machine=True)
        add(f"{shape} 50-node stretch, 100 runners in parallel", "node steps/s",
            median([parallel_steps_per_second(app, actor, v, steps) for _ in range(rounds)]),
            machine=True, note=f"{PARALLEL_THREADS} threads, one process")
    loop = version("self-loop", designs.self_loop())
    add("one step per transition (form loops to itself), one runner", "node steps/s",
        steps_per_second(actor, loop, 1, goes=30, rounds=rounds), machine=True)
    small = version("stretch-10", designs.stretch(10))
    samples = latencies(actor, small, 40)
    add("execute -> next wait, 10-node stretch", "ms p50", percentile(samples, 0.5), machine=True)
    add("execute -> next wait, 10-node stretch", "ms p99", percentile(samples, 0.99), machine=True)
    flat = {}
    for nodes in (10, 200):
        v = version(f"stretch-{nodes}", designs.stretch(nodes))
        flat[nodes] = steps_per_second(actor, v, designs.stretch_steps(nodes),
                                       goes=max(1, 400 // nodes), rounds=rounds)
        add(f"linear {nodes}-node stretch, one runner", "node steps/s", flat[nodes], machine=True)
    add("flat per step: 200-node / 10-node", "ratio", flat[200] / flat[10])
    per_node = (designs.stretch_steps(200) / flat[200] - designs.stretch_steps(10) / flat[10]) / 190
    add("marginal cost of one more node in a stretch", "µs", per_node * 1e6, machine=True)
    return figures
