"""The interrupt benchmark's bookkeeping, on constructed outcomes (no build runs here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from braid.eval.bench_interrupts import INTERRUPTED, classify, last_line, moments, remains, totals, write_beir_slice


def _trial(signal: str, **changes: Any) -> dict[str, Any]:
    code = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -9}[signal]
    trial: dict[str, Any] = {
        "signal": signal,
        "exit_code": code,
        "last_stderr_line": INTERRUPTED if signal != "SIGKILL" else "Encoding: 40%",
        "finished_before_signal": False,
        "hung": False,
        "orphans": False,
        "left": {"hidden": [], "index": False, "index_complete": False},
        "hs_err": [],
    }
    if signal == "SIGKILL":
        trial["left"] = {"hidden": [".index.building-123-abcd0123"], "index": False, "index_complete": False}
        trial["next_build"] = {"exit_code": 0, "removed_leftovers": 1, "hidden": [], "index": True, "index_complete": True, "hs_err": []}
    trial.update(changes)
    return trial


def test_clean_means_the_right_code_and_line_and_nothing_left_or_a_next_build_that_cleans_up() -> None:
    assert classify(_trial("SIGINT")) == "clean"
    assert classify(_trial("SIGTERM")) == "clean"
    assert classify(_trial("SIGKILL")) == "clean"  # a leftover is fine when the next build removes it
    assert classify(_trial("SIGTERM", exit_code=130)) == "not clean"
    assert classify(_trial("SIGINT", last_stderr_line="braid: internal error: JavaException: ...")) == "not clean"
    assert classify(_trial("SIGINT", left={"hidden": [".index.building-1-ab"], "index": False, "index_complete": False})) == "not clean"
    assert classify(_trial("SIGINT", left={"hidden": [], "index": True, "index_complete": True})) == "not clean"
    assert classify(_trial("SIGTERM", hs_err=["hs_err_pid77.log"])) == "not clean"
    assert classify(_trial("SIGINT", orphans=True)) == "not clean"
    failed_next = {"exit_code": 1, "removed_leftovers": 0, "hidden": [".index.building-123-abcd0123"], "index": False, "index_complete": False, "hs_err": []}
    assert classify(_trial("SIGKILL", next_build=failed_next)) == "not clean"
    assert classify(_trial("SIGINT", exit_code=0, finished_before_signal=True)) == "finished before signal"
    # The signal came while a finished build was exiting (signals are ignored then): complete, nothing left.
    complete = {"hidden": [], "index": True, "index_complete": True}
    assert classify(_trial("SIGTERM", exit_code=0, last_stderr_line="", left=complete)) == "finished before signal"
    assert classify(_trial("SIGTERM", exit_code=0, left={**complete, "hidden": [".index.building-1-ab"]})) == "not clean"
    assert classify(_trial("SIGTERM", hung=True)) == "hung"

    trials = [
        {**trial, "verdict": classify(trial)} for trial in (_trial("SIGINT"), _trial("SIGINT", exit_code=1), _trial("SIGKILL", finished_before_signal=True))
    ]
    counted = totals(trials)
    assert counted["SIGINT"] == {"clean": 1, "total": 2, "not_clean": 1, "hung": 0, "finished_before_signal": 0}
    assert counted["SIGKILL"]["total"] == 0 and counted["SIGKILL"]["finished_before_signal"] == 1
    assert counted["SIGTERM"]["total"] == 0


def test_slice_moments_last_line_and_remains(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "qrels").mkdir(parents=True)
    (source / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"d{n}", "title": "", "text": f"doc {n}"}) + "\n" for n in range(5)))
    (source / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "doc"}) + "\n")
    (source / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td0\t1\nq1\td1\t1\nq2\td4\t1\nq3\td0\t1\n")
    target = write_beir_slice(source, tmp_path / "slice", 3)
    assert [json.loads(line)["_id"] for line in (target / "corpus.jsonl").read_text().splitlines()] == ["d0", "d1", "d2"]
    assert (target / "qrels" / "test.tsv").read_text() == "query-id\tcorpus-id\tscore\nq1\td0\t1\nq1\td1\t1\nq3\td0\t1\n"  # q2 judges d4
    assert (target / "queries.jsonl").read_text() == (source / "queries.jsonl").read_text()

    assert moments(40.0, 3) == [0.5, 19.25, 38.0]
    assert moments(40.0, 1) == [0.5]
    assert moments(0.2, 2) == [0.5, 0.5]  # never before the first moment
    assert last_line("loading\nEncoding:  10%\rEncoding:  50%\r\nbraid: interrupted\n\n") == INTERRUPTED
    assert last_line("") == ""

    out = tmp_path / "out"
    (out / ".index.building-42-0badcafe").mkdir(parents=True)
    (out / ".other.building-42-0badcafe").mkdir()
    assert remains(out) == {"hidden": [".index.building-42-0badcafe"], "index": False, "index_complete": False}
