"""The retriever registry: one table of kinds, read by `braid index`, `Engine.open` and the CLI; a
new kind (here a TF-IDF toy in tests/support) plugs in through an entry point and nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from braid.engine.registry import BUILT_IN, ENTRY_POINT_GROUP, check_retriever_names, kinds, open_retriever
from braid.fusion.errors import BraidError
from braid.indexing.manifest import Manifest
from braid.indexing.segments import open_segments
from tests.support.cli import assert_one_line_error, braid

REPO = Path(__file__).resolve().parents[2]


def test_the_built_in_kinds_and_their_parts() -> None:
    assert list(BUILT_IN) == ["bm25", "splade", "dense"]
    assert list(kinds())[:3] == ["bm25", "splade", "dense"]
    for name, kind in BUILT_IN.items():
        assert kind.name == name and kind.config().to_dict() == kind.config.from_dict(kind.config().to_dict()).to_dict()


def test_unknown_names_are_refused_with_the_choices() -> None:
    assert check_retriever_names([" bm25", "dense", "bm25", ""]) == ["bm25", "dense"]
    with pytest.raises(BraidError, match="unknown retriever 'colbert'; choose from bm25, splade, dense"):
        check_retriever_names(["bm25", "colbert"])


def test_an_unknown_search_option_names_what_the_kind_takes(scifact_slice_index: Path) -> None:
    manifest = Manifest.read(scifact_slice_index)
    with pytest.raises(BraidError, match="bm25 has no search option ef_search; it takes: k1, b, backend"):
        open_retriever(manifest.retrievers["bm25"], open_segments(scifact_slice_index, manifest), lambda: [], {"ef_search": 10})


def _install_toy_plugin(folder: Path) -> dict[str, str]:
    """What `pip install` of a package declaring the entry point leaves on sys.path."""
    info = folder / "toy_tfidf-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-tfidf\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntoy = tests.support.toy_tfidf:KIND\n", encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(folder), str(REPO), os.environ.get("PYTHONPATH", "")])}


def test_a_plugin_kind_is_indexed_searched_scored_and_fused_through_the_cli(scifact_slice: Path, tmp_path: Path) -> None:
    env = _install_toy_plugin(tmp_path / "site")
    index = tmp_path / "index"
    built = braid("index", str(scifact_slice), "--out", str(index), "--retrievers", "bm25,toy", env=env)
    assert built.returncode == 0, built.stderr
    assert Manifest.read(index).retrievers["toy"].kind == "toy"

    found = braid("search", str(index), "vitamin D deficiency", "-k", "5", "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert len(hits) == 5 and all(set(hit["sources"]) == {"bm25", "toy"} for hit in hits)

    alone = braid("eval", str(index), str(scifact_slice), "--retrievers", "toy", "--json", env=env)
    fused = braid("eval", str(index), str(scifact_slice), "--json", "--fusion", "rrf", env=env)
    assert alone.returncode == 0 and fused.returncode == 0, alone.stderr + fused.stderr
    toy_ndcg, fused_ndcg = (json.loads(result.stdout)["metrics"]["ndcg@10"] for result in (alone, fused))
    assert 0.3 < toy_ndcg < 1 and 0.3 < fused_ndcg < 1  # TF-IDF finds SciFact's claims' evidence, not noise

    # Without the plugin the same index names what it cannot open.
    assert_one_line_error(braid("search", str(index), "vitamin D"), "unknown retriever 'toy'")
