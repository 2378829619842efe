"""Filters from the command line: `braid index/add --metadata`, `--filter` on search, eval and bench,
each checked against the synthetic metadata (a function of the id) rather than the index's answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from braid.eval.synthetic_metadata import bucket, metadata_of
from braid.indexing.readers import read_corpus
from tests.support.cli import assert_one_line_error, braid

QUERY = "vitamin D deficiency and bone health"
TENTH = '{"range": {"bucket": {"lt": 100}}}'


def kept_ids(corpus: Path, below: int) -> set[str]:
    return {document.doc_id for document in read_corpus(corpus) if bucket(document.doc_id) < below}


def test_search_keeps_matching_documents_only_and_reports_the_count(metadata_index: Path, scifact_small: Path) -> None:
    expected = kept_ids(scifact_small / "corpus.jsonl", 100)
    result = braid("search", str(metadata_index), QUERY, "-k", "50", "--filter", TENTH, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["filter"] == {"filter": json.loads(TENTH), "fields": ["bucket"], "matched": len(expected), "documents": 200}
    found = {hit["doc_id"] for hit in payload["hits"]}
    assert found and found <= expected
    unfiltered = json.loads(braid("search", str(metadata_index), QUERY, "-k", "200", "--json").stdout)["hits"]
    restricted = [hit["doc_id"] for hit in unfiltered if hit["doc_id"] in expected]
    assert [hit["doc_id"] for hit in payload["hits"]] == restricted[:50]  # BM25: exactly the restricted list


def test_search_table_says_the_filter_applied_and_reads_it_from_a_file(metadata_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    path = tmp_path / "filter.json"
    path.write_text(json.dumps({"and": [{"term": {"category": "c3"}}, {"range": {"published": {"gte": "2000-01-01"}}}]}), encoding="utf-8")
    expected = {
        doc.doc_id
        for doc in read_corpus(scifact_small / "corpus.jsonl")
        if metadata_of(doc.doc_id)["category"] == "c3" and metadata_of(doc.doc_id)["published"] >= "2000-01-01"
    }
    result = braid("search", str(metadata_index), QUERY, "-k", "100", "--filter", f"@{path}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"filter applied: {len(expected)} of 200 documents match"
    shown = {line.split()[1] for line in lines[2:]}
    assert shown and shown <= expected


def test_a_filter_nothing_matches_gives_no_hits_not_an_error(metadata_index: Path) -> None:
    result = braid("search", str(metadata_index), QUERY, "--filter", '{"term": {"category": "nowhere"}}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["filter applied: 0 of 200 documents match", "no hits"]


@pytest.mark.parametrize(
    ("given", "fragments"),
    [
        ('{"term": {"yeer": 2015}}', ["filter.term: unknown field 'yeer'", "bucket, category, published"]),
        ('{"range": {"category": {"gte": 1}}}', ["filter.range.category", "range needs a number or date field"]),
        ('{"term": {"bucket": "ten"}}', ["filter.term.bucket", "expected a number"]),
        ('{"and": [{"term": {"bucket": 1}}, {"nor": []}]}', ["filter.and[1]", "unknown operator 'nor'"]),
        ('{"term": {"bucket": 1}', ["filter", "not JSON"]),
        ("@/no/such/filter.json", ["--filter @/no/such/filter.json", "cannot read"]),
    ],
)
def test_a_bad_filter_is_a_one_line_error_naming_the_part(metadata_index: Path, given: str, fragments: list[str]) -> None:
    assert_one_line_error(braid("search", str(metadata_index), QUERY, "--filter", given), *fragments)


def test_the_lucene_backend_refuses_to_filter(metadata_index: Path) -> None:
    result = braid("search", str(metadata_index), QUERY, "--bm25-backend", "lucene", "--filter", TENTH)
    assert_one_line_error(result, "lucene backend cannot filter")


def test_eval_scores_over_matching_documents(metadata_index: Path, scifact_small: Path) -> None:
    whole = json.loads(braid("eval", str(metadata_index), str(scifact_small), "--json").stdout)
    result = braid("eval", str(metadata_index), str(scifact_small), "--filter", '{"range": {"bucket": {"lt": 500}}}', "--json")
    assert result.returncode == 0, result.stderr
    filtered = json.loads(result.stdout)
    assert filtered["filter"]["matched"] == len(kept_ids(scifact_small / "corpus.jsonl", 500))
    assert filtered["queries"] == whole["queries"]
    # Half the judged documents are out of reach: recall falls.
    assert filtered["metrics"]["recall@100"] < whole["metrics"]["recall@100"]


def test_bench_refuses_a_filter_with_the_regression_file(tmp_path: Path) -> None:
    regressions = Path(__file__).parents[2] / "eval" / "regressions.yaml"
    result = braid("bench", "--datasets", "scifact", "--filter", TENTH, "--check", str(regressions), "--out", str(tmp_path))
    assert_one_line_error(result, "--filter changes every score")


def test_add_with_metadata_then_filter_finds_the_new_document(metadata_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(metadata_index, index)
    corpus = tmp_path / "new.jsonl"
    corpus.write_text(json.dumps({"_id": "new-1", "title": "Vitamin D", "text": "vitamin D deficiency and bone health in adults"}) + "\n", encoding="utf-8")
    side = tmp_path / "new-metadata.jsonl"
    side.write_text(json.dumps({"_id": "new-1", "bucket": 1234, "category": "fresh", "published": "2026-12-01"}) + "\n", encoding="utf-8")
    added = braid("add", str(index), str(corpus), "--metadata", str(side), "--json")
    assert added.returncode == 0, added.stderr
    result = json.loads(braid("search", str(index), QUERY, "--filter", '{"term": {"category": "fresh"}}', "--json").stdout)
    assert [hit["doc_id"] for hit in result["hits"]] == ["new-1"] and result["filter"]["matched"] == 1


def test_add_with_a_conflicting_type_is_refused_and_changes_nothing(metadata_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(metadata_index, index)
    corpus = tmp_path / "new.jsonl"
    corpus.write_text(json.dumps({"_id": "new-2", "text": "bone health", "bucket": "high"}) + "\n", encoding="utf-8")
    manifest = (index / "manifest.json").read_bytes()
    assert_one_line_error(braid("add", str(index), str(corpus)), "bucket")
    assert (index / "manifest.json").read_bytes() == manifest
