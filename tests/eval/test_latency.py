"""Interleaved timing: every method runs every query, cold, in a rotating order."""

from __future__ import annotations

from braid.eval.latency import interleaved_latency, percentiles


def test_methods_take_turns_on_every_query_and_each_run_is_cold() -> None:
    calls: list[str] = []
    forgotten: list[int] = []
    methods = {name: (lambda query, name=name: calls.append(f"{name}:{query}")) for name in ("a", "b", "c")}
    timed = interleaved_latency(methods, ["q0", "q1", "q2"], lambda: forgotten.append(1), warmup=0)
    assert calls == ["a:q0", "b:q0", "c:q0", "b:q1", "c:q1", "a:q1", "c:q2", "a:q2", "b:q2"]
    assert len(forgotten) == 9 and set(timed) == {"a", "b", "c"}


def test_percentiles() -> None:
    assert percentiles([float(value) for value in range(1, 101)]) == {"p50_ms": 50.5, "p99_ms": 99.0}
    assert percentiles([]) == {"p50_ms": 0.0, "p99_ms": 0.0}
