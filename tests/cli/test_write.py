"""`braid add`, `braid delete`, `braid compact` as a user runs them, killed writers, searches during writes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from braid.engine import Engine, build_index
from braid.indexing.integrity import checksum_problems
from braid.indexing.manifest import Manifest
from braid.indexing.readers import read_corpus
from tests.support.cli import assert_one_line_error, braid
from tests.support.server import serve


@pytest.fixture
def corpus_parts(scifact_dir: Path, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A 60-document base corpus and 20 more documents, as JSONL files; and the base ids."""
    lines = (scifact_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "base.jsonl").write_text("\n".join(lines[:60]) + "\n", encoding="utf-8")
    (tmp_path / "more.jsonl").write_text("\n".join(lines[60:80]) + "\n", encoding="utf-8")
    return tmp_path / "base.jsonl", tmp_path / "more.jsonl", [json.loads(line)["_id"] for line in lines[:60]]


@pytest.fixture
def index(corpus_parts: tuple[Path, Path, list[str]], tmp_path: Path) -> Path:
    build_index(corpus_parts[0], tmp_path / "index", ["bm25"], progress=False)
    return tmp_path / "index"


def test_add_delete_and_compact_report_what_they_did(index: Path, corpus_parts: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    _, more, base_ids = corpus_parts
    added = braid("add", str(index), str(more), "--json")
    assert added.returncode == 0, added.stderr
    report = json.loads(added.stdout)
    assert (report["added"], report["encoded"], report["generation"], report["segments"], report["documents"]) == (20, 20, 2, 2, 80)

    (tmp_path / "ids.txt").write_text(f"{base_ids[2]}\n{base_ids[3]}\n", encoding="utf-8")
    deleted = braid("delete", str(index), base_ids[1], "ghost-id", "--ids", str(tmp_path / "ids.txt"))
    assert deleted.returncode == 0, deleted.stderr
    assert "3 deleted; generation 3" in deleted.stdout
    assert "1 id(s) not in the index, nothing deleted for them: ghost-id" in deleted.stderr

    compacted = braid("compact", str(index), "--json")
    assert compacted.returncode == 0, compacted.stderr
    assert {key: json.loads(compacted.stdout)[key] for key in ("compacted", "segments", "documents")} == {"compacted": True, "segments": 1, "documents": 77}
    assert braid("check", str(index)).returncode == 0
    found = braid("search", str(index), "test", "--json", "--bm25-backend", "lucene")
    assert found.returncode == 0, found.stderr


def test_write_errors_are_one_line_and_change_nothing(index: Path, corpus_parts: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    before = (index / "manifest.json").read_bytes()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"_id": "x1", "text": "fine"}\n{"_id": "x2", "text": \n', encoding="utf-8")
    assert_one_line_error(braid("add", str(index), str(broken)), f"{broken}:2", "malformed JSON")
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"_id": "x1", "text": "a"}\n{"_id": "x1", "text": "b"}\n', encoding="utf-8")
    assert_one_line_error(braid("add", str(index), str(twice)), f"{twice}:2", "appears twice")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert braid("add", str(index), str(empty)).returncode == 0  # nothing to add: no new generation
    assert_one_line_error(braid("delete", str(index)), "no document id given")
    assert_one_line_error(braid("add", str(tmp_path / "nowhere"), str(corpus_parts[1])), "is not a braid index")
    assert (index / "manifest.json").read_bytes() == before
    for command in ("add", "delete", "compact"):
        assert braid(command, "--help").returncode == 0


def kill_writers(index: Path, more: Path, base_ids: list[str], trials: int, seed: int) -> dict[str, int]:
    """SIGKILL `braid add`, `delete` and `compact` (in turn) at random moments of their run: the
    index must always open, equal to the state before the command or after it, whole (every
    checksum), and the next writer must leave no stray files. Returns how the trials ended."""
    rng = random.Random(seed)
    more_ids = {document.doc_id for document in read_corpus(more)}
    outcomes = {"before": 0, "after": 0}
    for trial in range(trials):
        kind = ("add", "delete", "compact")[trial % 3]
        before = _live_ids(index)
        if kind == "add":
            command, expected = ["add", str(index), str(more)], before | more_ids
        elif kind == "delete":
            doomed = rng.sample(sorted(before & set(base_ids)), 3)
            command, expected = ["delete", str(index), *doomed], before - set(doomed)
        else:
            command, expected = ["compact", str(index)], before
        process = subprocess.Popen([sys.executable, "-m", "braid.cli", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = _live_ids(index)  # opens and searches: never damaged
        assert after in (before, expected), (trial, command)
        outcomes["after" if after == expected and after != before else "before"] += 1
        assert not checksum_problems(index, Manifest.read(index)), trial
    clean = braid("compact", str(index))
    assert clean.returncode == 0, clean.stderr
    assert not [path.name for path in (index / "segments").iterdir() if path.name.startswith(".")]
    assert not list(index.glob("deletes/*")) and not list(index.glob(".manifest.json.*"))
    return outcomes


def test_a_writer_killed_at_any_moment_leaves_the_old_or_the_new_index(index: Path, corpus_parts: tuple[Path, Path, list[str]]) -> None:
    _, more, base_ids = corpus_parts
    kill_writers(index, more, base_ids, trials=6, seed=13)


@pytest.mark.slow
def test_fifty_four_killed_writers(index: Path, corpus_parts: tuple[Path, Path, list[str]]) -> None:
    """The issue's crash test: at least 50 trials across add, delete and compact."""
    _, more, base_ids = corpus_parts
    outcomes = kill_writers(index, more, base_ids, trials=54, seed=29)
    assert outcomes["before"] and outcomes["after"], outcomes  # kills landed both before and after commits


def _live_ids(index: Path) -> set[str]:
    with Engine.open(index) as engine:
        engine.search("cells", k=1)
        return set(engine.docstore.ids())


def test_searches_during_writes_answer_from_one_generation(index: Path, corpus_parts: tuple[Path, Path, list[str]]) -> None:
    """4 threads search in-process and one HTTP client searches `braid serve` while another process
    adds, deletes and compacts; every answer equals the answer of one committed generation."""
    _, more, base_ids = corpus_parts
    query = "cell biology of stem cells"
    expected = {}

    def answer(engine: Engine) -> tuple[tuple[str, float], ...]:
        return tuple((hit.doc_id, hit.score) for hit in engine.search(query, k=10))

    with Engine.open(index) as engine:
        expected[engine.manifest.generation] = answer(engine)
    seen: list[tuple[tuple[str, float], ...]] = []
    served_answers: list[tuple[tuple[str, float], ...]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    with Engine.open(index) as engine, serve(index) as server:

        def search() -> None:
            while not stop.is_set():
                try:
                    engine.refresh()
                    seen.append(answer(engine))
                except BaseException as error:  # any error fails the test
                    errors.append(error)

        def search_over_http() -> None:
            while not stop.is_set():
                try:
                    response = requests.post(f"{server.url}/search", json={"query": query, "k": 10}, timeout=60)
                    response.raise_for_status()
                    served_answers.append(tuple((hit["doc_id"], hit["score"]) for hit in response.json()["hits"]))
                except BaseException as error:
                    errors.append(error)

        threads = [threading.Thread(target=search) for _ in range(4)] + [threading.Thread(target=search_over_http)]
        for thread in threads:
            thread.start()
        writes = [["add", str(index), str(more)], ["delete", str(index), *base_ids[:5]], ["compact", str(index)]]
        for command in writes:
            result = braid(*command)
            assert result.returncode == 0, result.stderr
            with Engine.open(index) as reference:
                expected[reference.manifest.generation] = answer(reference)
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[0]
    assert len(expected) == 4 and seen and served_answers
    answers = set(expected.values())
    assert all(result in answers for result in seen + served_answers)
    assert len(set(seen)) > 1 and len(set(served_answers)) > 1, "the searches saw the writes"
