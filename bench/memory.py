"""Size and memory: stored bytes per waiting runner, and RSS of a worker holding 10,000 of them."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import UTC, datetime

from app import engine
from bench import designs, spiff
from bench.stats import Figure

NOW = datetime(2025, 1, 1, tzinfo=UTC)
RUNNERS = 10_000


def _waiting_state(runner_id: str) -> tuple[engine.Design, engine.RunnerState]:
    design = engine.compile_design({**designs.stretch(50), "id": "bench-memory", "version": 1})
    state = engine.new_state(runner_id, design.key)
    engine.advance(design, state, engine.Started({"x": 1}), clock=lambda: NOW)
    if state.current_nodes != ["gate"]:
        raise RuntimeError("the runner should wait at the gate")
    return design, state


def stored_state_bytes() -> int:
    """The runner row's engine state as stored (JSON, without the store's data)."""
    _, state = _waiting_state("00000000-0000-0000-0000-000000000000")
    return len(json.dumps(engine.dump_state(state, include_store=False)).encode())


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child() -> None:
    """In a fresh process: load 10,000 waiting runners as a worker would (each one's design looked
    up per version) and print the RSS they cost and whether all shared one design object."""
    _, template = _waiting_state("template")
    document = json.dumps(engine.dump_state(template, include_store=False))
    version = {**designs.stretch(50), "id": "bench-memory", "version": 1}
    gc.collect()
    before = _rss_kib()
    held = []
    for i in range(RUNNERS):
        doc = json.loads(document)
        doc["runner_id"] = f"{i:08d}-0000-0000-0000-000000000000"
        state = engine.load_state(doc, store={"x": 1})
        held.append((engine.compile_design(version), state))
    gc.collect()
    after = _rss_kib()
    shared = len({id(design) for design, _ in held})
    print(json.dumps({"rss_kib": after, "delta_kib": after - before, "designs": shared}))


def run() -> list[Figure]:
    ours = stored_state_bytes()
    figures = [Figure("memory and size", "stored state per waiting runner (50-node design)", "bytes",
                      ours)]
    if spiff.available():
        theirs = spiff.waiting_instance_bytes(50)
        figures += [Figure("memory and size", "SpiffWorkflow serialised waiting instance (50 tasks)",
                           "bytes", theirs),
                    Figure("memory and size", "Flowdesk / SpiffWorkflow stored bytes", "ratio",
                           ours / theirs)]
    out = subprocess.run([sys.executable, "-c", "from bench.memory import child; child()"],
                         capture_output=True, text=True, check=True, timeout=120)
    held = json.loads(out.stdout.strip().splitlines()[-1])
    figures += [
        Figure("memory and size", f"worker RSS holding {RUNNERS:,} waiting runners", "MiB",
               held["rss_kib"] / 1024, machine=True),
        Figure("memory and size", f"RSS added by {RUNNERS:,} waiting runners, per runner", "bytes",
               held["delta_kib"] * 1024 / RUNNERS, machine=True),
        Figure("memory and size", f"design objects held for {RUNNERS:,} runners of one version",
               "count", held["designs"]),
    ]
    return figures
