"""Timing several ways of doing the same thing fairly, on one shared machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence


def interleaved_times(
    methods: Mapping[str, Callable[[str], object]],
    queries: Sequence[str],
    forget: Callable[[], None],
    warmup: int,
    block: int = 1,
    end_turn: Callable[[str], None] | None = None,
) -> dict[str, list[float]]:
    """Milliseconds of every method on every query, each call cold (`forget` drops cached query
    vectors first), after `warmup` untimed queries through every method.

    The methods take turns every `block` queries, in a rotating order, reversed every other turn:
    a shared machine's slow spells then hit every method alike, so ratios between methods stay
    stable even when absolute times drift, and no method always follows the same one (rotation alone
    keeps the cyclic order). With `block` > 1 each turn starts with its first query run once untimed, which
    pays for whatever the method before left behind (caches, allocators). `end_turn(method)` runs
    after each turn, untimed: what a method leaves running (threads) can slow the next one, which
    in a process running one method throughout would never happen (see braid.engine.execution).
    """
    names = list(methods)
    for query in queries[:warmup]:
        for name in names:
            methods[name](query)
            if end_turn is not None:
                end_turn(name)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for turn, start in enumerate(range(0, len(queries), block)):
        chunk = queries[start : start + block]
        shift = turn % len(names)
        order = names[shift:] + names[:shift]
        for name in reversed(order) if turn % 2 else order:
            if block > 1:
                forget()
                methods[name](chunk[0])
            for query in chunk:
                forget()
                started = time.perf_counter()
                methods[name](query)
                times[name].append(1000 * (time.perf_counter() - started))
            if end_turn is not None:
                end_turn(name)
    return times
