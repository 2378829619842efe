"""The load test: a server process driven by concurrent clients from this one, with zero errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


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
