"""The Markdown table and the README block it keeps current."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.eval.suite.measure import MethodResult, add_serial_bounds, latency_ratios
from braid.eval.suite.methods import Method
from braid.eval.suite.tables import README_END, README_START, dataset_table, index_table, update_readme
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError


def _report() -> dict:
    significance = {"t_test_p": 0.01234, "randomization_p": 0.00001}
    return {
        "dataset": "scifact", "split": "test", "queries": 300, "metrics": ["ndcg@10", "recall@100"], "headline_metric": "ndcg@10",
        "best_single": "bm25",
        "index": {"documents": 5183, "retrievers": ["bm25", "dense"], "build_seconds": 92.4, "peak_memory_mb": 1500.2, "size_mb": {"bm25": 3.0, "dense": 8.5, "total": 12.0}},
        "methods": [
            {"method": "bm25", "note": "", "metrics": {"ndcg@10": 0.67891, "recall@100": 0.9253}, "significance": {},
             "latency_ms": {"p50_ms": 1.234, "p99_ms": 5.0}, "queries_per_second": 11406.2},
            {"method": "tuned", "note": "tuned on train", "metrics": {"ndcg@10": 0.73, "recall@100": 0.97},
             "significance": {"vs_bm25": significance, "vs_best_single": significance}, "latency_ms": {"p50_ms": 7.0, "p99_ms": 12.25, "p50_over_serial_sum": 0.8234, "p50_over_slowest": 1.2}, "queries_per_second": 150.4,
             "serial_bound_qps": 160.2, "serial_bound_ratio": 0.939, "fusion_ms_per_query": 0.4561, "exact_ms_per_query": 0.301},
        ],
    }  # fmt: skip


def test_dataset_table_rows() -> None:
    lines = dataset_table(_report()).splitlines()
    assert lines[0] == "**scifact** (test, 300 queries)"
    assert lines[2] == (
        "| method | nDCG@10 | R@100 | p vs BM25 (nDCG@10; t / rand.) | p vs best single (bm25) | p50 ms | p99 ms | p50 / serial sum, / slowest | q/s | q/s / serial bound | fusion ms/q |"
    )
    assert lines[4] == "| bm25 | 0.6789 | 0.9253 | — | — | 1.2 | 5.0 | — | 11406 | — | — |"
    assert (
        lines[5]
        == "| tuned (tuned on train) | 0.7300 | 0.9700 | 0.0123 / <0.0001 | 0.0123 / <0.0001 | 7.0 | 12.2 | 0.82 / 1.20 | 150 | 0.94 (of 160) | 0.46 (0.30 exact) |"
    )


def test_index_table_rows() -> None:
    assert index_table([_report()]).splitlines()[2] == "| scifact | 5183 | 92 | 1500 | 3.0 | 8.5 | 12.0 |"


def test_readme_block_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{README_START}\nold table\n{README_END}\nafter\n")
    update_readme(readme, "| new |\n")
    assert readme.read_text() == f"# title\n\nbefore\n{README_START}\n| new |\n{README_END}\nafter\n"


def test_readme_without_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# title\n")
    with pytest.raises(BraidError, match="README.md: no"):
        update_readme(readme, "| new |\n")
    assert readme.read_text() == "# title\n"


def test_serial_bounds_come_from_the_single_runs_of_the_same_bench() -> None:
    def result(name: str, retrievers: tuple[str, ...], rate: float) -> MethodResult:
        return MethodResult(Method(name, retrievers, None if len(retrievers) == 1 else FusionConfig()), {}, {}, rate, "")

    results = [
        result("bm25", ("bm25",), 2400.0),
        result("dense", ("dense",), 300.0),
        result("cc", ("bm25", "dense"), 250.0),
        result("odd", ("bm25", "splade"), 50.0),
    ]
    add_serial_bounds(results)
    assert results[2].serial_bound == round(1 / (1 / 2400 + 1 / 300), 1) and results[2].bound_ratio == round(250 / results[2].serial_bound, 3)
    assert results[2].row()["serial_bound_ratio"] == results[2].bound_ratio
    assert results[0].serial_bound is None and results[3].serial_bound is None  # splade was not run alone


def test_latency_ratios_are_over_the_sum_and_the_slowest() -> None:
    assert latency_ratios(9.0, [1.0, 5.0, 6.0]) == {"p50_over_serial_sum": 0.75, "p50_over_slowest": 1.5}
