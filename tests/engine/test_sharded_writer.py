"""Writes to a sharded index go to the shards that own the documents, and searches afterwards
equal one index built from the surviving documents (BM25's statistics summed over the shards'
new generations); an engine opened before the writes sees them after refresh()."""

from __future__ import annotations

import json
from pathlib import Path

from braid.engine import Engine, build_index
from braid.engine.shard_split import split_index
from braid.engine.sharded_writer import open_writer
from braid.indexing.readers import Document, read_corpus
from braid.indexing.shards import ShardLayout, shard_of

QUERIES = ["vitamin D deficiency and bone health", "gene expression in cancer cells", "protein", "antibiotic resistance of bacteria"]


def test_writes_go_to_owning_shards_and_search_as_a_rebuild(scifact_dir: Path, tmp_path: Path) -> None:
    corpus = list(read_corpus(scifact_dir / "corpus.jsonl"))
    base, more = corpus[:150], corpus[150:180]
    (tmp_path / "base.jsonl").write_text("".join(json.dumps({"_id": d.doc_id, "title": d.title, "text": d.text}) + "\n" for d in base))
    build_index(tmp_path / "base.jsonl", tmp_path / "index", ["bm25"], progress=False)
    split_index(tmp_path / "index", tmp_path / "shards", 3, progress=False)
    with Engine.open(tmp_path / "shards") as before:
        old_lists = before.retrieve(QUERIES, 50)["bm25"]
        changed = [Document(d.doc_id, d.title, d.text + " vitamin protein") for d in base[:5]]
        gone = [d.doc_id for d in base[5:15]]
        with open_writer(tmp_path / "shards") as writer:
            writer.add([*more, *changed])
            writer.delete([*gone, "no-such-id"])
        report = writer.last_report
        assert report is not None and (report.added, report.replaced, report.deleted, report.unknown) == (30, 5, 10, ["no-such-id"])
        assert before.retrieve(QUERIES, 50)["bm25"] == old_lists  # the open engine keeps its generation...
        assert before.refresh()  # ...until it refreshes
        refreshed = before.retrieve(QUERIES, 50)["bm25"]
    survivors = [*changed, *(d for d in base[15:]), *more]
    (tmp_path / "after.jsonl").write_text("".join(json.dumps({"_id": d.doc_id, "title": d.title, "text": d.text}) + "\n" for d in survivors))
    build_index(tmp_path / "after.jsonl", tmp_path / "rebuilt", ["bm25"], progress=False)
    with Engine.open(tmp_path / "rebuilt") as rebuilt, Engine.open(tmp_path / "shards") as sharded:
        expected = rebuilt.retrieve(QUERIES, 50)["bm25"]
        assert sharded.retrieve(QUERIES, 50)["bm25"] == expected
        assert refreshed == expected
        for document in more:  # each new document landed in the shard its id names
            folder = ShardLayout.read(tmp_path / "shards").folders(tmp_path / "shards")[shard_of(document.doc_id, 3)]
            with Engine.open(folder) as shard:
                assert shard.docstore.get(document.doc_id) is not None
    layout = ShardLayout.read(tmp_path / "shards")
    assert layout.doc_count == len(survivors) == 170
