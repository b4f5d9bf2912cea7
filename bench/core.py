"""The pure engine core: `advance` over whole runs of compiled designs, no I/O at all."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from app.engine import Started, Status, advance, compile_design, new_state
from bench import designs
from bench.stats import Figure, median

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def transitions_per_second(raw: dict[str, Any], *, transitions: int, runs: int = 150,
                           store_size: int = 0) -> float:
    """One round: `runs` fresh runners of `raw`, each started and run to its end."""
    design = compile_design(raw)
    big = {f"pre{i}": i for i in range(store_size)}
    states = []
    for r in range(runs):
        state = new_state(f"r{r}", design.key)
        state.store.update(big)
        states.append(state)
    began = time.perf_counter()
    for state in states:
        advance(design, state, Started({"x": 1}), clock=lambda: NOW)
    elapsed = time.perf_counter() - began
    if not all(s.status is Status.SUCCEEDED for s in states):
        raise RuntimeError(f"{raw['id']}: a runner did not succeed")
    return runs * transitions / elapsed


def run(rounds: int = 5) -> list[Figure]:
    """Linear and branching designs; a big store must not slow a transition down (O(1) steps)."""
    cases = [("linear, 50 transforms", designs.linear(50), 52, 0),
             ("branching, 25 conditions", designs.branching(25), 52, 0),
             ("linear, 50 transforms, 10,000-key store", designs.linear(50), 52, 10_000)]
    figures = []
    for label, raw, transitions, store_size in cases:
        transitions_per_second(raw, transitions=transitions, runs=20)  # warm the design cache
        rates = [transitions_per_second(raw, transitions=transitions, store_size=store_size,
                                        runs=100 if store_size else 150) for _ in range(rounds)]
        rate = median(rates)
        figures.append(Figure("engine core", label, "transitions/s", rate, machine=True))
        figures.append(Figure("engine core", label, "µs/transition", 1e6 / rate, machine=True))
    return figures
