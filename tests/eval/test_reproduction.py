"""Whole-dataset runs through the CLI must reproduce the published scores in eval/expected_scores.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.test_cli import braid

EXPECTED = yaml.safe_load((Path(__file__).resolve().parents[2] / "eval" / "expected_scores.yaml").read_text())
CASES = [(dataset, method) for dataset, methods in EXPECTED.items() for method in methods]


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "method"), CASES)
def test_published_scores_are_reproduced(dataset: str, method: str, data_root: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    expected = EXPECTED[dataset][method]
    index = tmp_path / dataset
    extra = [str(arg) for arg in expected.get("index_args", [])]
    built = braid("index", dataset, "--out", str(index), "--retrievers", method, "--data-dir", str(data_root), *extra)
    assert built.returncode == 0, built.stderr
    scored = braid("eval", str(index), dataset, "--retrievers", method, "--json", "--data-dir", str(data_root))
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)["metrics"]
    for name, published in expected["published"].items():
        assert metrics[name] == pytest.approx(published, abs=expected["tolerance"]), (dataset, method, name)
