"""Single-query latency of several methods, measured so that they can be compared fairly."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence

from braid.engine.interleaved import interleaved_times


def interleaved_latency(
    methods: Mapping[str, Callable[[str], object]],
    queries: Sequence[str],
    forget: Callable[[], None],
    warmup: int = 5,
    block: int = 1,
    end_turn: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """p50/p99 milliseconds per method, every query cold, the methods taking turns every `block`
    queries (see braid.engine.interleaved.interleaved_times)."""
    return {name: percentiles(values) for name, values in interleaved_times(methods, queries, forget, warmup, block, end_turn).items()}


def p99(values: Sequence[float]) -> float:
    """The 99th percentile by the nearest-rank rule: the ceil(0.99 * n)-th smallest of the n values
    (1-based; no interpolation), so at least 99% of the values are <= it. n = 100 gives the 99th
    smallest, n = 50 the 50th (the largest), n = 1 the only value. Raises ValueError when empty."""
    if len(values) == 0:
        raise ValueError("p99 of no values")
    rank = -(-99 * len(values) // 100)  # ceil(0.99 n), in integers
    return sorted(values)[rank - 1]


def percentiles(milliseconds: Sequence[float]) -> dict[str, float]:
    """p50 (the median) and p99 (see p99), rounded to 0.01 ms; both 0 for no values."""
    if len(milliseconds) == 0:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {"p50_ms": round(statistics.median(milliseconds), 2), "p99_ms": round(p99(milliseconds), 2)}
