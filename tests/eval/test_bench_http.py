"""The load test: a server process driven by concurrent clients from this one, with zero errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from braid.eval.bench_http import drive, engine_send


def test_load_test_reports_zero_errors_and_both_throughputs(three_way_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "http_load.json"
    finished = subprocess.run(
        [sys.executable, "-m", "braid.eval.bench_http", str(three_way_small_index), "--dataset", str(scifact_small),
         "--clients", "8", "--requests", "25", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(out.read_text())
    for side in ("http", "in_process"):
        assert report[side]["requests"] == 200 and report[side]["errors"] == 0, report[side]["error_samples"]
        assert report[side]["queries_per_second"] > 0 and 0 < report[side]["p50_ms"] <= report[side]["p99_ms"]
    assert report["http_overhead"] == round(1 - report["http"]["queries_per_second"] / report["in_process"]["queries_per_second"], 3)


class _NoHitsEngine:
    """Answers every query with no hits, as a real engine does for a query of stopwords only."""

    def search(self, query: str, k: int = 10) -> list[object]:
        return []


class _BrokenEngine:
    def search(self, query: str, k: int = 10) -> list[object]:
        raise RuntimeError("index closed")


def test_in_process_query_with_no_hits_counts_as_success_like_http() -> None:
    report = drive(2, 3, ["the", "of a"], engine_send(_NoHitsEngine(), 10), lambda: None)  # type: ignore[arg-type]
    assert report["requests"] == 6 and report["errors"] == 0, report["error_samples"]


def test_in_process_exception_counts_as_error() -> None:
    report = drive(2, 3, ["query"], engine_send(_BrokenEngine(), 10), lambda: None)  # type: ignore[arg-type]
    assert report["errors"] == 6 and "RuntimeError: index closed" in report["error_samples"][0]
