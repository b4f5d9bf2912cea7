"""`python -m bench`: run every benchmark (a few minutes), print the table, write bench/RESULTS.md."""

from __future__ import annotations

import logging
import os
import time
import warnings

from sqlalchemy import create_engine, text

from bench import api, celery_check, core, durable, env, memory, report, spiff
from bench.report import Verdict, find
from bench.stats import Figure, fmt, measured

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _postgres_version() -> str | None:
    if not env.postgres_reachable():
        return None
    engine = create_engine(env.POSTGRES_ADMIN)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    return str(version)


def _step(name: str) -> None:
    print(f"... {name}", flush=True)


def peer(kind: str, figures: list[Figure]) -> None:
    """SpiffWorkflow in memory (once) and durable on this database kind."""
    section = f"SpiffWorkflow ({kind})"
    with env.database(kind) as url:
        figures.append(Figure(section, "linear 50 script tasks, durable", "tasks/s",
                              spiff.durable(url, 50, ROUNDS), machine=True,
                              note="whole workflow JSON + a task row, one commit per task"))
        if kind == "sqlite":
            small = spiff.durable(url, 10, ROUNDS)
            big = spiff.durable_once(url, 200)
            figures += [
                Figure(section, "linear 10 script tasks, durable", "tasks/s", small, machine=True),
                Figure(section, "linear 200 script tasks, durable", "tasks/s", big, machine=True,
                       note="one run (seconds each)"),
                Figure(section, "flat per step: 200-task / 10-task", "ratio", big / small)]


def verdicts(figures: list[Figure], kinds: list[str]) -> list[Verdict]:
    out = []
    for kind in kinds:
        ours = find(figures, f"durable ({kind})", "linear 50-node stretch, one runner", "node steps/s")
        per_step = find(figures, f"durable ({kind})",
                        "one step per transition (form loops to itself), one runner", "node steps/s")
        theirs = find(figures, f"SpiffWorkflow ({kind})", "linear 50 script tasks, durable", "tasks/s")
        ratio = ours / theirs
        figures.append(Figure("ratios", f"durable 50-node flow, Flowdesk / SpiffWorkflow ({kind})",
                              "ratio", ratio))
        figures.append(Figure("ratios", f"one commit per step, Flowdesk / SpiffWorkflow ({kind})",
                              "ratio", per_step / theirs,
                              note="a Flowdesk transition per node vs Spiff's commit per task"))
        out.append(Verdict(f"durable steps/s >= 10x SpiffWorkflow-durable, same flow ({kind})",
                           f"{fmt(ratio)}x (50-node stretch, one commit); "
                           f"{fmt(per_step / theirs)}x when every node is its own transition",
                           ratio >= 10 if measured(ratio) else None))
        flat = find(figures, f"durable ({kind})", "flat per step: 200-node / 10-node", "ratio")
        out.append(Verdict(f"flat per step: 200-node >= 0.8x 10-node ({kind})", f"{fmt(flat)}x",
                           flat >= 0.8 if measured(flat) else None))
    spiff_flat = find(figures, "SpiffWorkflow (sqlite)", "flat per step: 200-task / 10-task", "ratio")
    out.append(Verdict("(peer) SpiffWorkflow flat per step, for reference (issue: ~0.1x)",
                       f"{fmt(spiff_flat)}x", True if measured(spiff_flat) else None))
    for case in ("linear, 50 transforms", "branching, 25 conditions"):
        rate = find(figures, "engine core", case, "transitions/s")
        out.append(Verdict(f"engine core >= 100,000 transitions/s ({case})", f"{fmt(rate)}/s †",
                           rate >= 100_000))
    api_section = "API (sqlite, gunicorn 2 sync workers)"
    for c in api.CONCURRENCY:
        ex = find(figures, api_section, f"Execute Runner (one step), c={c}", "req/s")
        bare = find(figures, api_section, f"bare Flask-SQLAlchemy read+write, c={c}", "req/s")
        ex99 = find(figures, api_section, f"Execute Runner (one step), c={c}", "ms p99")
        bare99 = find(figures, api_section, f"bare Flask-SQLAlchemy read+write, c={c}", "ms p99")
        figures.append(Figure("ratios", f"Execute Runner / bare read+write req/s, c={c}", "ratio",
                              ex / bare))
        met = (ex >= 0.8 * bare and ex99 <= bare99) if measured(ex) else None
        out.append(Verdict(f"Execute Runner >= 0.8x bare read+write, p99 no worse (c={c})",
                           f"{fmt(ex / bare)}x; p99 {fmt(ex99)} vs {fmt(bare99)} ms †", met))
    size = find(figures, "memory and size", "Flowdesk / SpiffWorkflow stored bytes", "ratio")
    out.append(Verdict("stored bytes per waiting runner <= 0.5x Spiff's serialised instance",
                       f"{fmt(size)}x", size <= 0.5 if measured(size) else None))
    designs_held = find(figures, "memory and size",
                        "design objects held for 10,000 runners of one version", "count")
    out.append(Verdict("designs shared per version (10,000 waiting runners)",
                       f"{fmt(designs_held)} design object(s)", designs_held == 1))
    tasks = find(figures, "Celery + Redis", "tasks for one 10-api_call stretch", "tasks")
    out.append(Verdict("Celery executor: a whole automatic stretch is one task",
                       f"{fmt(tasks)} task(s) for 10 api_call nodes",
                       tasks == 1 if measured(tasks) else None))
    return out


def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)  # third-party noise, not our figures
    logging.disable(logging.WARNING)  # expected refusals and retries would drown the table
    began, load_before = time.perf_counter(), _load()
    figures: list[Figure] = []
    notes: list[str] = []
    kinds = env.kinds()
    if "postgresql" not in kinds:
        notes.append(f"PostgreSQL not reachable at {env.POSTGRES_ADMIN}: its figures are missing.")
    _step("engine core")
    figures += core.run(rounds=max(ROUNDS, 5))
    if spiff.available():
        figures.append(Figure("SpiffWorkflow (memory)", "linear 50 script tasks, in memory",
                              "tasks/s", spiff.memory(50, ROUNDS), machine=True))
        engine_rate = find(figures, "engine core", "linear, 50 transforms", "transitions/s")
        figures.append(Figure("ratios", "in memory, Flowdesk engine core / SpiffWorkflow", "ratio",
                              engine_rate / figures[-1].value))
    else:
        notes.append("SpiffWorkflow is not installed (pip install spiffworkflow): no peer figures.")
    for kind in kinds:
        _step(f"durable engine on {kind}")
        figures += durable.run_on(kind, rounds=ROUNDS)
        if spiff.available():
            _step(f"SpiffWorkflow durable on {kind}")
            peer(kind, figures)
    _step("memory and size")
    figures += memory.run()
    _step("API under load (gunicorn)")
    api_figures, api_notes = api.run("sqlite", rounds=ROUNDS)
    figures += api_figures
    notes += api_notes
    _step("Celery + Redis")
    celery_figures, celery_notes = celery_check.run()
    figures += celery_figures
    notes += celery_notes
    judged = verdicts(figures, kinds)
    text = report.write(figures, judged, notes, postgres=_postgres_version(), spiff=spiff.VERSION,
                        load=(load_before, _load()), seconds=time.perf_counter() - began)
    print(text)


if __name__ == "__main__":
    main()
