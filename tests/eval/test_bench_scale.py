"""The scale benchmark end to end at its smallest size: a real build and a real probe in child processes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from braid.eval import bench_scale


def test_bench_scale_measures_a_small_corpus(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    arguments = [
        "--sizes",
        "5300",
        "--retrievers",
        "bm25",
        "--work",
        str(tmp_path / "work"),
        "--data-dir",
        str(data_root),
        "--queries",
        "20",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(bench_scale.main, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (row,) = report["sizes"]
    assert row["documents"] == 5300 and row["build_seconds"] > 0 and row["build_peak_rss_mb"] > 50 and row["index_mb"] > 0
    assert row["vectors"] == "encode" and list(row["stages"]) == ["bm25"]
    serving = row["serving"]
    assert set(serving["latency_ms"]) == {"bm25"} and serving["latency_ms"]["bm25"]["p50_ms"] > 0
    # SciFact's own documents are all there: BM25's nDCG@10 stays near its SciFact value (0.665).
    assert 0.6 < serving["batch"]["bm25"]["ndcg@10"] < 0.7
    assert serving["memory_after_first_query"]["file_backed_mb"] > 0 and report["machine"]["cpu_model"]


def test_hnsw_curve_reaches_exact_search_on_a_small_graph(hybrid_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "hnsw.json"
    result = CliRunner().invoke(
        bench_scale.main, ["hnsw", str(hybrid_small_index), str(scifact_small), "--ef", "1,400", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    low, high = json.loads(out.read_text(encoding="utf-8"))["curve"]
    assert (low["ef_search"], high["ef_search"]) == (1, 400)
    # 200 documents: a breadth of 400 visits them all, so the graph finds exactly what a scan finds.
    assert high["recall@10"] == 1.0 and 0 < low["recall@10"] <= high["recall@10"] and high["p50_ms"] > 0
    refused = CliRunner().invoke(bench_scale.main, ["hnsw", str(hybrid_small_index), str(scifact_small), "--ef", "wide"])
    assert refused.exit_code == 2 and "comma-separated list of integers" in refused.output
