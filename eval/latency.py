"""Single-query latency of several methods, measured so that they can be compared fairly."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence


def interleaved_latency(
    methods: Mapping[str, Callable[[str], object]], queries: Sequence[str], forget: Callable[[], None], warmup: int = 5
) -> dict[str, dict[str, float]]:
    """p50/p99 milliseconds per method, every query cold (`forget` drops cached query vectors).

    The methods take turns on every query, in a rotating order: a shared machine's slow spells then
    hit every method alike, so ratios between methods stay stable even when absolute times drift.
    """
    for query in queries[:warmup]:
        for run_one in methods.values():
            run_one(query)
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for position, query in enumerate(queries):
        shift = position % len(names)
        for name in names[shift:] + names[:shift]:
            forget()
            started = time.perf_counter()
            methods[name](query)
            times[name].append(1000 * (time.perf_counter() - started))
    return {name: percentiles(values) for name, values in times.items()}


def percentiles(milliseconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(milliseconds)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {"p50_ms": round(statistics.median(ordered), 2), "p99_ms": round(ordered[max(0, int(0.99 * len(ordered)) - 1)], 2)}
