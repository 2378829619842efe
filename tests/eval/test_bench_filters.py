"""The filter benchmark on the 200-document slice: its counts agree with the synthetic metadata,
exact retrievers score recall 1.0, nothing answers short, and it writes its JSON and PNG."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from braid.eval import bench_filters
from braid.eval.synthetic_metadata import bucket
from braid.indexing.readers import read_corpus


def test_bench_filters_reports_every_selectivity(scifact_small: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "filters.json"
    result = CliRunner().invoke(
        bench_filters.main, ["--dataset", str(scifact_small), "--index", str(tmp_path / "index"), "--out", str(out), "--queries", "12"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ids = [document.doc_id for document in read_corpus(scifact_small / "corpus.jsonl")]
    assert report["documents"] == 200 and report["methods"] == ["bm25", "splade", "dense", "fused"]
    assert [row["selectivity"] for row in report["selectivities"]] == [0.5, 0.1, 0.01, 0.001]
    for row in report["selectivities"]:
        below = row["filter"]["range"]["bucket"]["lt"]
        assert row["matched"] == sum(bucket(doc_id) < below for doc_id in ids)
        assert row["dense_plan"] == "scan"  # 200 documents: a scan is always cheaper
        for name in ("bm25", "splade", "dense"):  # exact at this size: sparse by construction, dense by scan
            assert row["quality"][name] == {"recall_at_10": 1.0 if row["matched"] else None, "short_answers": 0}
        assert row["quality"]["fused"]["short_answers"] == 0
        assert row["quality_hnsw_plan"]["dense"]["short_answers"] == 0
        assert set(row["latency"]) == {"bm25", "splade", "dense", "fused"} and row["latency"]["fused"]["p50_ratio"] > 0
    assert report["machine"]["cpu_model"]
