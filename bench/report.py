"""The results table, the targets from issue 8 judged met or not, and bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.stats import Figure, fmt

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


def find(figures: Iterable[Figure], section: str, case: str, unit: str) -> float:
    for figure in figures:
        if figure.section == section and figure.case == case and figure.unit == unit:
            return figure.value
    return float("nan")


def table(figures: list[Figure]) -> str:
    lines = ["| section | case | value | unit | note |", "|---|---|---:|---|---|"]
    for f in figures:
        mark = " †" if f.machine else ""
        lines.append(f"| {f.section} | {f.case} | {fmt(f.value)}{mark} | {f.unit} | {f.note} |")
    return "\n".join(lines)


def verdicts_table(verdicts: list[Verdict]) -> str:
    lines = ["| target (issue 8) | measured in this run | verdict |", "|---|---|---|"]
    for v in verdicts:
        word = "not measured" if v.met is None else ("**met**" if v.met else "**not met**")
        lines.append(f"| {v.target} | {v.measured} | {word} |")
    return "\n".join(lines)


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                       cpu)
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
            memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return [f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{memory}"]


def versions(postgres: str | None, spiff: str | None) -> str:
    names = ["Flask", "SQLAlchemy", "Flask-SQLAlchemy", "psycopg", "gunicorn", "celery", "redis",
             "jmespath", "simpleeval"]
    found = [f"Python {sys.version.split()[0]}", f"SQLite {sqlite3.sqlite_version}"]
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    found.append(f"PostgreSQL {postgres}" if postgres else "PostgreSQL not reachable")
    found.append(f"SpiffWorkflow {spiff}" if spiff else "SpiffWorkflow not installed")
    return ", ".join(found)


def write(figures: list[Figure], verdicts: list[Verdict], notes: list[str], *, postgres: str | None,
          spiff: str | None, load: tuple[str, str], seconds: float) -> str:
    text = "\n".join([
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"in {seconds:.0f} s. See bench/README.md for what each figure means and for the profile "
        "findings behind the targets that are not met.",
        "",
        f"- Machine: {machine()[0]}",
        f"- Load average (1, 5, 15 min) before: {load[0]}; after: {load[1]} "
        "(the machine is shared: a load above the core count slows every absolute figure)",
        f"- Versions: {versions(postgres, spiff)}",
        "- Figures marked † are absolute and specific to this machine and its load; ratios compare "
        "two things measured in this same run and are the figures to quote. Throughputs are "
        "medians of several rounds; latencies are percentiles over every request or call.",
        "",
        "## Targets",
        "",
        verdicts_table(verdicts),
        "",
        "## Figures",
        "",
        table(figures),
        "",
        *(["## Notes", "", *[f"- {note}" for note in notes], ""] if notes else []),
    ])
    RESULTS.write_text(text)
    return text
