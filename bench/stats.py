"""Figures the benchmarks report, and the small statistics they need (medians, percentiles)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured value. `machine` marks an absolute figure that only holds on this machine;
    ratios are `machine=False` because both sides ran here, in the same run."""

    section: str
    case: str
    unit: str
    value: float
    machine: bool = False
    note: str = ""


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; `fraction` in (0, 1]. Unlike interpolation it is an observed value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def measured(value: float) -> bool:
    """False for the NaN that stands for a figure this run could not take."""
    return not math.isnan(value)


def fmt(value: float) -> str:
    """Three significant figures, grouped thousands, no scientific notation."""
    if not measured(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"
