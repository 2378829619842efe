"""The BM25 benchmark reads a split's queries through the dataset layer, whatever the layout.

The index build and both timed systems are stubbed: what is under test is which queries reach
them and how their rankings are scored (bm25s is an optional extra, absent from the test setup).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from braid.eval import bench_bm25


def _msmarco(root: Path) -> Path:
    """An MS MARCO folder: collection.tsv, queries.dev.tsv and TREC qrels.dev.tsv (no queries.tsv)."""
    root.mkdir()
    (root / "collection.tsv").write_text("d1\tcoffee beans\nd2\tgreen tea\n", encoding="utf-8")
    (root / "queries.dev.tsv").write_text("q1\tcoffee\nq2\ttea\nq3\tunjudged\n", encoding="utf-8")
    (root / "qrels.dev.tsv").write_text("q1 0 d1 1\nq2 0 d2 1\n", encoding="utf-8")
    return root


def _stub_systems(monkeypatch: pytest.MonkeyPatch, seen: list[list[str]]) -> None:
    answers = {"coffee": [("d1", 2.0)], "tea": [("d2", 2.0)]}

    def fake_bench(_where: Any, texts: list[str], ks: Any, repeats: int, config: Any) -> tuple[list[dict], list]:
        seen.append(list(texts))
        row = {"system": "stub", "k": 10, "threads": 1, "qps_best": 1.0, "output": "lists"}
        return [row], [(f"stub {len(seen)}", [answers.get(text, []) for text in texts])]

    monkeypatch.setattr(bench_bm25, "build_index", lambda *args, **kwargs: None)
    monkeypatch.setattr(bench_bm25, "bench_braid", fake_bench)
    monkeypatch.setattr(bench_bm25, "bench_bm25s", fake_bench)


def test_msmarco_layout_times_and_scores_the_splits_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    _stub_systems(monkeypatch, seen)
    out = tmp_path / "bm25.json"
    args = ["--dataset", str(_msmarco(tmp_path / "marco")), "--split", "dev", "--index", str(tmp_path / "index"), "--out", str(out)]
    result = CliRunner().invoke(bench_bm25.main, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert seen == [["coffee", "tea"], ["coffee", "tea"]]
    report = json.loads(out.read_text())
    assert report["queries"] == 2 and report["ndcg@10_dev"] == {"stub 1": 1.0, "stub 2": 1.0}


def test_beir_layout_uses_the_judged_queries_of_the_split(scifact_slice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    _stub_systems(monkeypatch, seen)
    args = ["--dataset", str(scifact_slice), "--index", str(tmp_path / "index"), "--out", str(tmp_path / "bm25.json")]
    result = CliRunner().invoke(bench_bm25.main, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    judged = bench_bm25.resolve_dataset(str(scifact_slice)).load_split("test").queries
    assert seen[0] == list(judged.values()) and len(seen[0]) > 0
