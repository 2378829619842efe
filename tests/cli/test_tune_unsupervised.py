"""`braid tune DIR --unsupervised`: pseudo-queries from the index, stored like labelled tuning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.cli import assert_one_line_error, braid


def test_unsupervised_tuning_reads_no_labels_and_says_so(three_way_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(three_way_small_index, index)
    (scifact_small / "qrels").rename(scifact_small / "qrels-hidden")  # no label may be read
    try:
        tuned = braid("tune", str(index), "--unsupervised", "--pseudo-queries", "20", "--step", "0.5", "--methods", "cc", "--json")
    finally:
        (scifact_small / "qrels-hidden").rename(scifact_small / "qrels")
    assert tuned.returncode == 0, tuned.stderr
    report = json.loads(tuned.stdout)
    assert report["split"] == "pseudo-title" and report["queries"] == 20
    assert report["unsupervised"] == {"pseudo_queries": 20, "kind": "title", "seed": 13, "best_value": report["unsupervised"]["best_value"]}
    assert report["value"] >= report["unsupervised"]["best_value"] - 1 / 20  # within one query of the best
    assert report["settings_tried"] == 9 * 6  # 6 weightings of 3 retrievers at step 0.5; 9 norm/missing pairs
    stored = json.loads((index / "fusion.json").read_text())
    assert stored["config"] == report["best"] and stored["tuned_on"]["unsupervised"]["pseudo_queries"] == 20
    evaluated = braid("eval", str(index), str(scifact_small), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["fusion"] == {**report["best"], "weights_from": "given"}


def test_data_and_unsupervised_are_one_or_the_other(three_way_small_index: Path, scifact_small: Path) -> None:
    index = str(three_way_small_index)
    assert_one_line_error(braid("tune", index, str(scifact_small), "--unsupervised"), "--unsupervised makes its queries from the index", "drop")
    assert_one_line_error(braid("tune", index), "missing DATA", "--unsupervised")
    assert braid("tune", index, "--unsupervised", "--pseudo-kind", "abstract").returncode == 2  # click lists the choices
