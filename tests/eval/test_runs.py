"""TREC run files round-trip, and bad ones are reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.eval.qrels import read_qrels
from braid.eval.runs import read_trec_run, write_trec_run
from braid.fusion.errors import DataError


def test_run_file_round_trip(tmp_path: Path) -> None:
    run = {"q1": [("d3", 2.5), ("d1", 2.5), ("d2", -1.0)], "q2": []}
    write_trec_run(run, tmp_path / "run.txt", tag="test")
    lines = (tmp_path / "run.txt").read_text().splitlines()
    assert lines[0] == "q1 Q0 d3 1 2.500000 test"
    assert read_trec_run(tmp_path / "run.txt") == {"q1": run["q1"]}


def test_run_rows_are_ordered_by_rank_column(tmp_path: Path) -> None:
    (tmp_path / "run.txt").write_text("q Q0 b 2 1.0 t\nq Q0 a 1 2.0 t\n")
    assert read_trec_run(tmp_path / "run.txt") == {"q": [("a", 2.0), ("b", 1.0)]}


@pytest.mark.parametrize(
    ("content", "message"),
    [("q Q0 a 1 1.0\n", "expected 'qid Q0 docid rank score tag'"), ("q Q0 a 1 1.0 t\nq Q0 a 2 0.5 t\n", "listed twice"), ("q Q0 a x 1.0 t\n", "rank must be")],
)
def test_bad_run_files_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "run.txt").write_text(content)
    with pytest.raises(DataError, match=message):
        read_trec_run(tmp_path / "run.txt")


def test_qrels_in_trec_and_beir_formats(tmp_path: Path) -> None:
    (tmp_path / "beir.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n")
    (tmp_path / "trec.txt").write_text("q1 0 d1 2\nq1 0 d2 0\n")
    assert read_qrels(tmp_path / "beir.tsv") == read_qrels(tmp_path / "trec.txt") == {"q1": {"d1": 2, "d2": 0}}
    (tmp_path / "bad.tsv").write_text("q1\td1\thigh\n")
    with pytest.raises(DataError, match="bad.tsv:1: relevance 'high'"):
        read_qrels(tmp_path / "bad.tsv")
