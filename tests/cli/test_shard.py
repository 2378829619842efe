"""`braid shard` as a user runs it: shards that search and evaluate as the index they came from,
one-line errors that leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.support.cli import assert_one_line_error, braid
from tests.support.server import serve


def test_shard_then_search_and_eval_as_the_whole_index(hybrid_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    made = braid("shard", str(hybrid_small_index), "--shards", "3", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert [shard["folder"] for shard in report["shards"]] == ["shard-000", "shard-001", "shard-002"]
    assert sum(shard["docs"] for shard in report["shards"]) == 200 and report["statistics"] == ["bm25"]
    mine = braid("search", str(out), "vitamin D deficiency", "-k", "20", "--json", "--dense-exact")
    theirs = braid("search", str(hybrid_small_index), "vitamin D deficiency", "-k", "20", "--json", "--dense-exact")
    assert mine.returncode == 0, mine.stderr
    assert json.loads(mine.stdout)["hits"] == json.loads(theirs.stdout)["hits"]
    mine = braid("eval", str(out), str(scifact_small), "--json", "--dense-exact")
    theirs = braid("eval", str(hybrid_small_index), str(scifact_small), "--json", "--dense-exact")
    assert mine.returncode == 0, mine.stderr
    assert json.loads(mine.stdout)["metrics"] == json.loads(theirs.stdout)["metrics"]


def test_shard_errors_are_one_line(hybrid_small_index: Path, tmp_path: Path) -> None:
    assert_one_line_error(braid("shard", str(tmp_path / "nothing"), "--shards", "2", "--out", str(tmp_path / "a")), "not a braid index")
    assert_one_line_error(braid("shard", str(hybrid_small_index), "--shards", "300", "--out", str(tmp_path / "b")), "between 2 and 256")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert_one_line_error(braid("shard", str(hybrid_small_index), "--shards", "2", "--out", str(tmp_path / "taken"), "--overwrite"), "not a braid index")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]
    assert_one_line_error(braid("search", str(hybrid_small_index), "x", "--ray", "local"), "not a sharded index")


def test_index_with_shards_equals_shard_after_index(scifact_small: Path, hybrid_small_index: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    built = braid("index", str(scifact_small), "--out", str(tmp_path / "built"), "--retrievers", "bm25,dense", "--shards", "2")
    assert built.returncode == 0, built.stderr
    assert "as 2 shards" in built.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["built"]  # the whole index was only staging
    split = braid("shard", str(hybrid_small_index), "--shards", "2", "--out", str(tmp_path / "split"))
    assert split.returncode == 0, split.stderr
    answers = [braid("search", str(tmp_path / name), "protein folding", "-k", "20", "--json", "--dense-exact") for name in ("built", "split")]
    assert json.loads(answers[0].stdout)["hits"] == json.loads(answers[1].stdout)["hits"]


def test_add_and_delete_on_a_sharded_index(scifact_small: Path, scifact_dir: Path, tmp_path: Path) -> None:
    assert braid("index", str(scifact_small), "--out", str(tmp_path / "shards"), "--retrievers", "bm25", "--shards", "2").returncode == 0
    lines = (scifact_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[300:310]
    (tmp_path / "more.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    added = braid("add", str(tmp_path / "shards"), str(tmp_path / "more.jsonl"), "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["added"] == 10 and json.loads(added.stdout)["documents"] == 210
    new_id = json.loads(lines[0])["_id"]
    deleted = braid("delete", str(tmp_path / "shards"), new_id, "--json")
    assert deleted.returncode == 0 and json.loads(deleted.stdout)["deleted"] == 1, deleted.stderr
    layout = json.loads((tmp_path / "shards" / "shards.json").read_text())
    assert sum(shard["docs"] for shard in layout["shards"]) == 209


def test_serve_a_sharded_index_with_partial_results_on_request(hybrid_small_index: Path, tmp_path: Path) -> None:
    assert braid("shard", str(hybrid_small_index), "--shards", "2", "--out", str(tmp_path / "shards")).returncode == 0
    with serve(tmp_path / "shards") as served:
        plain = requests.post(f"{served.url}/search", json={"query": "vitamin D deficiency", "k": 5}, timeout=60).json()
        partial = requests.post(f"{served.url}/search", json={"query": "vitamin D deficiency", "k": 5, "partial": True}, timeout=60).json()
        health = requests.get(f"{served.url}/health", timeout=60).json()
    assert health["shards"] == {"where": "local", "shards": 2, "generations": [1, 1]} and health["documents"] == 200
    assert plain["shards"] is None and len(plain["hits"]) == 5
    assert partial["shards"] == {"shards": 2, "answered": [0, 1], "missing": {}}
    assert [hit["doc_id"] for hit in partial["hits"]] == [hit["doc_id"] for hit in plain["hits"]]
