"""The label-free benchmark's summary and table, on hand-made per-query scores."""

from __future__ import annotations

from typing import Any

from braid.eval.bench_label_free import markdown, summarize


def report() -> dict[str, Any]:
    def scores(*values: float) -> dict[str, dict[str, float]]:
        return {f"q{number}": {"ndcg@10": value, "recall@100": 1.0} for number, value in enumerate(values)}

    return {
        "dataset": "toy",
        "retrievers": ["bm25", "dense"],
        "methods": {"bm25": "", "dense": "", "equal": "", "prior": ""},
        "_short": set(),  # fewer than 20 short queries: no subset check
        "_scores": {"bm25": scores(1.0, 0.0), "dense": scores(0.5, 0.5), "equal": scores(0.4, 0.4), "prior": scores(1.0, 0.5)},
    }


def test_checks_name_the_best_single_and_mark_fusions_below_it() -> None:
    checks = summarize([report()])
    assert [(check["metric"], check["queries"], check["count"]) for check in checks] == [("ndcg@10", "all", 2), ("recall@100", "all", 2)]
    ndcg = checks[0]
    assert ndcg["best_single"] == "bm25"  # 0.5 = dense's 0.5: the first listed wins a tie
    means = {row["method"]: row["mean"] for row in ndcg["rows"]}
    assert means == {"bm25": 0.5, "dense": 0.5, "equal": 0.4, "prior": 0.75}
    prior = next(row for row in ndcg["rows"] if row["method"] == "prior")
    assert prior["vs_best_single"]["mean_difference"] == 0.25 and prior["vs_equal"]["mean_difference"] == 0.35
    table = markdown(checks).splitlines()
    assert table[0] == "| method | toy ndcg@10 | toy recall@100 |"
    assert "| equal | **0.4000** | 1.0000 |" in table and "| prior | 0.7500 | 1.0000 |" in table and "| dense | 0.5000 | 1.0000 |" in table
