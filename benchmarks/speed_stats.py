"""Statistics for the benchmarks' timings: percentiles and the summary every figure is given as."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "median_ms": statistics.median(values) if values else None,
        "p95_ms": percentile(values, 95),
        "mean_ms": statistics.fmean(values) if values else None,
        "n": float(len(values)),
    }
