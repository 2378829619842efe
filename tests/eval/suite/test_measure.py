"""How the bench times a method's batch: the fastest run counts for q/s, and each timing within it
(fusion, exact scores) is the fastest it took in any run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from braid.eval.datasets import Split
from braid.eval.suite.measure import _fastest_run


class ScriptedView:
    """Runs that take the given (seconds, timings) in turn; `run` returns its turn's number."""

    def __init__(self, turns: list[tuple[float, dict[str, float]]], clock: list[float]) -> None:
        self.turns, self.clock, self.forgotten = turns, clock, 0

    def forget_queries(self) -> None:
        self.forgotten += 1

    def run(self, queries: Mapping[str, str], depth: int, filter: str | None, timings: dict[str, float]) -> dict[str, Any]:
        turn = len(self.clock) - 1
        seconds, taken = self.turns[turn]
        timings.update(taken)
        self.clock.append(self.clock[-1] + seconds)
        return {"turn": turn}


def test_the_fastest_run_counts_and_each_timing_is_its_fastest_in_any_run(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    turns = [(3.0, {"fusion": 90.0, "exact": 30.0}), (2.0, {"fusion": 140.0, "exact": 25.0}), (2.5, {"fusion": 80.0, "exact": 35.0})]
    view = ScriptedView(turns, clock)
    monkeypatch.setattr("braid.eval.suite.measure.time.perf_counter", lambda: clock[-1])  # each run advances it
    split = Split(name="test", queries={"q1": "text"}, qrels={})
    run, seconds, timings = _fastest_run(view, view, split, None, runs=3)  # type: ignore[arg-type]
    assert run == {"turn": 1} and seconds == 2.0  # the second run was the fastest
    assert timings == {"fusion": 80.0, "exact": 25.0}  # from the third run and the second
    assert view.forgotten == 3
