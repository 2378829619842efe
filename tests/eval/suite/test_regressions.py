"""The regression file: drift detection on constructed runs, and (slow) the real benchmark against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from braid.eval.suite.regressions import drifts, read_expectations, record, write_expectations
from tests.cli.test_cli import braid

REGRESSIONS = Path(__file__).resolve().parents[3] / "eval" / "regressions.yaml"


def _bench(bm25: float, dense: float) -> dict:
    return {"datasets": [{"dataset": "scifact", "methods": [
        {"method": "bm25", "metrics": {"ndcg@10": bm25}}, {"method": "dense", "metrics": {"ndcg@10": dense}},
    ]}]}  # fmt: skip


def test_bm25_tolerance_is_tighter_than_the_neural_one() -> None:
    expected = record(_bench(0.6789, 0.6448))
    assert drifts(_bench(0.6793, 0.6466), expected) == []
    assert drifts(_bench(0.6795, 0.6469), expected) == [
        "scifact bm25 ndcg@10: expected 0.6789 ± 0.0005, got 0.6795",
        "scifact dense ndcg@10: expected 0.6448 ± 0.002, got 0.6469",
    ]


def test_a_method_the_run_lacks_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "expected.yaml"
    write_expectations(_bench(0.6789, 0.6448), path)
    only_bm25 = {"datasets": [{"dataset": "scifact", "methods": [{"method": "bm25", "metrics": {"ndcg@10": 0.6789}}]}]}
    assert drifts(only_bm25, read_expectations(path)) == ["scifact dense ndcg@10: expected 0.6448, not measured"]


def test_the_committed_file_covers_every_method_on_both_datasets() -> None:
    expected = yaml.safe_load(REGRESSIONS.read_text())
    for dataset in ("scifact", "nfcorpus"):
        assert set(expected[dataset]) == {"bm25", "splade", "dense", "cc-minmax", "cc-zscore", "cc-tmm", "rrf", "tuned"}


@pytest.mark.slow
def test_full_benchmark_matches_the_regression_file_and_fusion_clears_the_bar(data_root: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    """SciFact and NFCorpus from scratch: every score within tolerance of eval/regressions.yaml, and
    the fusion tuned on train/dev beats every single retriever on test by >= 0.01 nDCG@10."""
    out = tmp_path / "results"
    finished = braid(
        "bench", "--datasets", "scifact,nfcorpus", "--out", str(out), "--indexes", str(tmp_path / "indexes"),
        "--data-dir", str(data_root), "--latency-queries", "50", "--check", str(REGRESSIONS),
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    for report in bench["datasets"]:
        scores = {row["method"]: row["metrics"]["ndcg@10"] for row in report["methods"]}
        best_single = max(scores[name] for name in ("bm25", "splade", "dense"))
        assert scores["tuned"] >= best_single + 0.01, (report["dataset"], scores)
