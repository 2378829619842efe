"""Qrels that would make every metric meaningless are refused, naming the file and lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.eval.qrels import read_qrels
from braid.eval.runs import read_trec_run
from braid.fusion.errors import DataError


@pytest.mark.parametrize("content", ["", "query-id\tcorpus-id\tscore\n", "\n\n"])
def test_a_qrels_file_without_judgements_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "test.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="no relevance judgements"):
        read_qrels(path)


def test_a_pair_judged_twice_with_different_grades_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\nq1\td1\t2\n", encoding="utf-8")
    with pytest.raises(DataError, match="judges document 'd1' 2 here and 1 on line 2") as caught:
        read_qrels(path)
    assert caught.value.line == 4


def test_a_pair_repeated_with_the_same_grade_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("q1 0 d1 1\nq1 0 d1 1\n", encoding="utf-8")
    assert read_qrels(path) == {"q1": {"d1": 1}}


def test_a_run_file_that_is_not_utf8_is_a_data_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_bytes(b"q1 Q0 d1 1 2.0 tag\nq1 Q0 d\xff 2 1.0 tag\n")
    with pytest.raises(DataError, match="not UTF-8") as caught:
        read_trec_run(path)
    assert caught.value.line == 2
