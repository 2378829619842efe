"""Interleaved timing: every method runs every query, cold, in a rotating order."""

from __future__ import annotations

import pytest

from braid.engine.interleaved import interleaved_times
from braid.eval.latency import interleaved_latency, p99, percentiles


def test_methods_take_turns_on_every_query_rotating_and_reversed_every_other_turn_and_each_run_is_cold() -> None:
    calls: list[str] = []
    forgotten: list[int] = []
    methods = {name: (lambda query, name=name: calls.append(f"{name}:{query}")) for name in ("a", "b", "c")}
    timed = interleaved_latency(methods, ["q0", "q1", "q2"], lambda: forgotten.append(1), warmup=0)
    assert calls == ["a:q0", "b:q0", "c:q0", "a:q1", "c:q1", "b:q1", "c:q2", "a:q2", "b:q2"]  # b a c, reversed; then c a b
    assert len(forgotten) == 9 and set(timed) == {"a", "b", "c"}


def test_turns_of_a_block_start_with_an_untimed_query_and_end_with_end_turn() -> None:
    calls: list[str] = []
    methods = {name: (lambda query, name=name: calls.append(f"{name}:{query}")) for name in ("a", "b")}
    timed = interleaved_times(methods, ["q0", "q1", "q2", "q3"], lambda: None, warmup=1, block=2, end_turn=lambda name: calls.append(f"end {name}"))
    assert calls == [
        "a:q0", "end a", "b:q0", "end b",  # warm-up
        "a:q0", "a:q0", "a:q1", "end a", "b:q0", "b:q0", "b:q1", "end b",  # a turn: one untimed, then the block
        "a:q2", "a:q2", "a:q3", "end a", "b:q2", "b:q2", "b:q3", "end b",  # b a, reversed
    ]  # fmt: skip
    assert {name: len(values) for name, values in timed.items()} == {"a": 4, "b": 4}  # the untimed runs are not counted


def test_percentiles() -> None:
    assert percentiles([float(value) for value in range(1, 101)]) == {"p50_ms": 50.5, "p99_ms": 99.0}
    assert percentiles([]) == {"p50_ms": 0.0, "p99_ms": 0.0}


def test_p99_is_the_nearest_rank_value_when_0_99_n_is_fractional() -> None:
    # n = 50: 0.99 n = 49.5, so the ceil(49.5) = 50th smallest, the largest (one rank low gives 49).
    assert p99([float(value) for value in range(50, 0, -1)]) == 50.0
    assert percentiles([float(value) for value in range(1, 51)])["p99_ms"] == 50.0
    # n = 250: 0.99 n = 247.5, so the 248th smallest.
    assert p99([float(value) for value in range(1, 251)]) == 248.0
    # Whole 0.99 n: n = 100 gives exactly the 99th smallest; one value is its own p99.
    assert p99([float(value) for value in range(100, 0, -1)]) == 99.0
    assert p99([7.0]) == 7.0
    with pytest.raises(ValueError):
        p99([])
