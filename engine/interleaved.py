"""Timing several ways of doing the same thing fairly, on one shared machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence


def interleaved_times(
    methods: Mapping[str, Callable[[str], object]], queries: Sequence[str], forget: Callable[[], None], warmup: int
) -> dict[str, list[float]]:
    """Milliseconds of every method on every query, each call cold (`forget` drops cached query
    vectors first), after `warmup` untimed queries through every method.

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
    return times
