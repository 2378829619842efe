"""End to end on whole datasets through the CLI: fusion tuned on the labelled non-test split must
beat every single retriever on test by at least 0.01 nDCG@10 (the hybrid issue's bar)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import braid

TUNING_SPLITS = {"scifact": "train", "nfcorpus": "dev"}


@pytest.mark.slow
@pytest.mark.parametrize("dataset", sorted(TUNING_SPLITS))
def test_tuned_fusion_beats_every_single_retriever(dataset: str, data_root: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    index = tmp_path / dataset
    data = ["--data-dir", str(data_root)]
    built = braid("index", dataset, "--out", str(index), "--retrievers", "bm25,splade,dense", *data)
    assert built.returncode == 0, built.stderr
    tuned = braid("tune", str(index), dataset, "--split", TUNING_SPLITS[dataset], "--json", *data)
    assert tuned.returncode == 0, tuned.stderr
    singles = {}
    for name in ("bm25", "splade", "dense"):
        scored = braid("eval", str(index), dataset, "--retrievers", name, "--json", *data)
        assert scored.returncode == 0, scored.stderr
        singles[name] = json.loads(scored.stdout)["metrics"]["ndcg@10"]
    fused = json.loads(braid("eval", str(index), dataset, "--json", *data).stdout)
    assert fused["fusion"] == json.loads(tuned.stdout)["best"]
    assert fused["metrics"]["ndcg@10"] >= max(singles.values()) + 0.01, (fused["metrics"], singles)
