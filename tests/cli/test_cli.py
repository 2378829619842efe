"""The `braid` command as a user runs it: real processes, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, braid


def test_help_loads_neither_java_nor_torch() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from braid.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = [m for m in ('torch', 'jnius', 'pyserini', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def cli_index(scifact_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "index"
    result = braid("index", str(scifact_slice), "--out", str(out), "--retrievers", "bm25")
    assert result.returncode == 0, result.stderr
    assert "indexed 400 documents" in result.stdout
    return out


def test_index_search_and_eval_by_dataset_name(cli_index: Path, scifact_slice: Path, tmp_path: Path) -> None:
    result = braid("search", str(cli_index), "vitamin D deficiency", "-k", "3")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0].split() == ["rank", "doc", "id", "score", "title"] and len(rows) == 4

    run_file = tmp_path / "bm25.run"
    result = braid(
        "eval", str(cli_index), "scifact-slice", "--json", "--run", str(run_file),
        env={"BRAID_DATA": str(scifact_slice.parent)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {"ndcg@10", "recall@100", "recall@1000", "map", "mrr@10", "p@10"}
    assert all(isinstance(value, float) and 0 <= value <= 1 for value in report["metrics"].values())
    assert report["metrics"]["ndcg@10"] > 0.5  # a 400-doc slice is easy; a broken pipeline scores near 0
    assert report["dataset"] == "scifact-slice" and report["split"] == "test" and report["queries"] == 25
    assert report["retrievers"] == {"bm25": {"k1": 0.9, "b": 0.4, "backend": "matrix"}}
    assert len({line.split()[0] for line in run_file.read_text().splitlines()}) == 25


def test_eval_with_overridden_bm25_parameters(cli_index: Path, scifact_slice: Path) -> None:
    result = braid("eval", str(cli_index), str(scifact_slice), "--json", "--bm25-k1", "1.2", "--bm25-b", "0.75")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["retrievers"] == {"bm25": {"k1": 1.2, "b": 0.75, "backend": "matrix"}}


def test_search_json_with_lucene_syntax(cli_index: Path) -> None:
    result = braid("search", str(cli_index), "AND (x* OR y:z)~2 \\ cancer", "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["k"] == 2 and len(payload["hits"]) == 2
    assert set(payload["hits"][0]) == {"doc_id", "score", "rank", "title", "sources"}
    assert payload["hits"][0]["sources"]["bm25"]["rank"] == 1


def test_refuses_to_overwrite_without_the_flag(cli_index: Path, scifact_slice: Path) -> None:
    manifest_before = (cli_index / "manifest.json").read_text()
    result = braid("index", str(scifact_slice), "--out", str(cli_index))
    assert_one_line_error(result, "already exists", "--overwrite")
    assert (cli_index / "manifest.json").read_text() == manifest_before


def test_bad_corpus_line_fails_with_file_and_line_and_leaves_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "1", "text": "fine"}\n{"_id": "2", "text": "broken"\n')
    result = braid("index", str(corpus), "--out", str(tmp_path / "index"))
    assert_one_line_error(result, f"{corpus}:2:", "malformed JSON")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.jsonl"]


def test_unknown_things_get_one_line_errors(cli_index: Path, tmp_path: Path) -> None:
    assert_one_line_error(braid("index", "no-such-set", "--out", str(tmp_path / "x"), "--data-dir", str(tmp_path)), "not found")
    assert_one_line_error(braid("search", str(cli_index), "q", "--retrievers", "dense"), "'dense'", "it has: bm25")
    assert_one_line_error(braid("search", str(tmp_path), "q"), "not a braid index")
    assert_one_line_error(braid("--java-heap", "lots", "search", str(cli_index), "q"), "lots")
    assert braid("search", str(cli_index), "q", "-k", "0").returncode == 2  # click's own usage error


def test_msmarco_format_end_to_end(scifact_slice: Path, tmp_path: Path) -> None:
    """collection.tsv + queries.<split>.tsv + TREC qrels, written here from the SciFact slice."""
    folder = tmp_path / "marco"
    folder.mkdir()
    documents = [json.loads(line) for line in (scifact_slice / "corpus.jsonl").read_text().splitlines()]
    passage_id = {doc["_id"]: str(number) for number, doc in enumerate(documents)}
    (folder / "collection.tsv").write_text("".join(f"{passage_id[d['_id']]}\t{d['title']} {d['text']}\n" for d in documents))
    queries = {json.loads(line)["_id"]: json.loads(line)["text"] for line in (scifact_slice / "queries.jsonl").read_text().splitlines()}
    judged = [row.split("\t") for row in (scifact_slice / "qrels" / "test.tsv").read_text().splitlines()[1:]]
    (folder / "queries.dev.small.tsv").write_text("".join(f"{qid}\t{queries[qid]}\n" for qid in dict.fromkeys(q for q, _, _ in judged)))
    (folder / "qrels.dev.small.tsv").write_text("".join(f"{qid} 0 {passage_id[doc]} {grade}\n" for qid, doc, grade in judged))

    built = braid("index", str(folder), "--out", str(tmp_path / "index"), "--retrievers", "bm25")
    assert built.returncode == 0, built.stderr
    scored = braid("eval", str(tmp_path / "index"), str(folder), "--split", "dev.small", "--json")
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert report["queries"] == 25 and report["split"] == "dev.small"
    assert report["metrics"]["mrr@10"] > 0.5 and report["metrics"]["recall@1000"] > 0.9
    assert braid("eval", str(tmp_path / "index"), str(folder), "--split", "train").returncode == 1


def test_dense_index_and_search_through_the_cli(scifact_small: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "index"
    built = braid("index", str(scifact_small), "--out", str(out), "--retrievers", "dense", "--ef-search", "64")
    assert built.returncode == 0, built.stderr
    result = braid("search", str(out), "vitamin D and bone density", "--json", "-k", "3")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["retrievers"] == ["dense"] and len(payload["hits"]) == 3
    scored = braid("eval", str(out), str(scifact_small), "--json", "--dense-exact")
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert report["retrievers"]["dense"]["exact"] is True and report["retrievers"]["dense"]["ef_search"] == 64
    assert report["metrics"]["ndcg@10"] > 0.6


def test_unknown_dense_model_is_one_line(scifact_small: Path, tmp_path: Path) -> None:
    result = braid(
        "index", str(scifact_small), "--out", str(tmp_path / "x"), "--retrievers", "dense", "--dense-model", "acme/nope", env={"HF_HUB_OFFLINE": "1"}
    )
    assert_one_line_error(result, "acme/nope", "all-MiniLM-L6-v2")
    assert not (tmp_path / "x").exists()


def test_splade_index_search_and_eval_through_the_cli(scifact_small: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "index"
    built = braid("index", str(scifact_small), "--out", str(out), "--retrievers", "splade", "--splade-stopwords")
    assert built.returncode == 0, built.stderr
    result = braid("search", str(out), "vitamin D and bone density", "--json", "-k", "3")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["retrievers"] == ["splade"] and len(payload["hits"]) == 3
    scored = braid("eval", str(out), str(scifact_small), "--json", "--splade-backend", "lucene")
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert report["retrievers"]["splade"]["backend"] == "lucene" and report["retrievers"]["splade"]["query_stopwords"] is True
    assert report["metrics"]["ndcg@10"] > 0.6
    kept = braid("eval", str(out), str(scifact_small), "--json", "--splade-keep-stopwords")
    assert json.loads(kept.stdout)["retrievers"]["splade"]["query_stopwords"] is False


def test_sparse_model_without_mlm_head_is_one_line(scifact_small: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    result = braid(
        "index", str(scifact_small), "--out", str(tmp_path / "x"), "--retrievers", "splade", "--sparse-model", "sentence-transformers/all-MiniLM-L6-v2"
    )
    assert_one_line_error(result, "all-MiniLM-L6-v2", "not a SPLADE model")
    assert not (tmp_path / "x").exists()


def test_hybrid_search_tune_and_eval(three_way_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    import shutil

    index = tmp_path / "index"
    shutil.copytree(three_way_small_index, index)
    table = braid("search", str(index), "vitamin D and bone density", "-k", "2", "--explain")
    assert table.returncode == 0, table.stderr
    assert sum(line.split()[0] in ("bm25", "splade", "dense") for line in table.stdout.splitlines()) == 6
    tuned = braid("tune", str(index), str(scifact_small), "--split", "test", "--step", "0.25", "--json")
    assert tuned.returncode == 0, tuned.stderr
    report = json.loads(tuned.stdout)
    assert report["saved"] and (index / "fusion.json").is_file() and Path(report["plot"]).is_file()
    assert report["value"] >= max(report["single_retrievers"].values())
    assert report["settings_tried"] == 9 * 15 + 9 * 15  # 15 weightings of 3 retrievers at step 0.25; 9 norm/missing pairs, 9 RRF k values
    evaluated = braid("eval", str(index), str(scifact_small), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    scored = json.loads(evaluated.stdout)
    assert scored["fusion"] == {**report["best"], "weights_from": "given"}
    assert scored["metrics"]["ndcg@10"] == pytest.approx(report["value"], abs=0.01), (scored["metrics"], report)
    with_rrf = braid("eval", str(index), str(scifact_small), "--json", "--fusion", "rrf", "--rrf-k", "10")
    assert with_rrf.returncode == 0, with_rrf.stderr
    rrf = json.loads(with_rrf.stdout)
    assert rrf["fusion"]["method"] == "rrf" and rrf["fusion"]["rrf_k"] == 10


def test_bad_fusion_options_are_one_line(three_way_small_index: Path) -> None:
    index = str(three_way_small_index)
    assert_one_line_error(braid("search", index, "q", "--weights", "bm25=-1"), "bm25=-1", "must be a finite number between 0 and")
    assert_one_line_error(braid("search", index, "q", "--weights", "bm25=0,dense=0"), "all zero")
    assert_one_line_error(braid("search", index, "q", "--weights", "colbert=1"), "'colbert'", "bm25, splade, dense")
    assert_one_line_error(braid("search", index, "q", "--retrievers", "bm25,colbert"), "'colbert'", "bm25, splade, dense")
    assert braid("search", index, "q", "--norm", "softmax").returncode == 2  # click lists the choices


def test_dense_query_encoder_option(three_way_small_index: Path, scifact_slice_index: Path) -> None:
    index = str(three_way_small_index)
    found = {}
    for encoder in ("model", "int8"):
        result = braid("search", index, "vitamin D and bone density", "-k", "5", "--retrievers", "dense", "--dense-query-encoder", encoder, "--json")
        assert result.returncode == 0, result.stderr
        found[encoder] = [hit["doc_id"] for hit in json.loads(result.stdout)["hits"]]
    assert len(found["int8"]) == 5 and len(set(found["int8"]) & set(found["model"])) >= 4, found
    assert_one_line_error(braid("search", str(scifact_slice_index), "q", "--dense-query-encoder", "int8"), "--dense-query-encoder int8", "no dense retriever")
    assert braid("search", index, "q", "--dense-query-encoder", "fp16").returncode == 2  # click lists the choices
