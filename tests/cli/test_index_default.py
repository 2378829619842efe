"""A plain `braid index DATA --out DIR` builds the hybrid: bm25, splade and dense."""

from __future__ import annotations

import json
from pathlib import Path

from braid.indexing.manifest import Manifest
from tests.support.cli import braid


def test_index_without_retrievers_builds_all_three(scifact_dir: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    lines = (scifact_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:30]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = braid("index", str(tmp_path / "corpus.jsonl"), "--out", str(tmp_path / "index"), env={"BRAID_CACHE": str(embedding_cache_dir)})
    assert built.returncode == 0, built.stderr
    assert list(Manifest.read(tmp_path / "index").retrievers) == ["bm25", "splade", "dense"]
    found = braid("search", str(tmp_path / "index"), json.loads(lines[3])["title"], "--json", "-k", "1")
    assert found.returncode == 0, found.stderr
    assert set(json.loads(found.stdout)["hits"][0]["sources"]) == {"bm25", "splade", "dense"}
