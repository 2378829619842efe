"""`braid bench` end to end on an MS MARCO-format sample written here from real SciFact data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from braid.eval.runs import read_trec_run
from tests.support.cli import braid

METHODS = ["bm25", "splade", "dense", "cc-minmax", "cc-zscore", "cc-tmm", "rrf", "label-free", "tuned"]


def _judged(qrels_tsv: Path, kept: set[str]) -> dict[str, list[str]]:
    """BEIR qrels of queries whose relevant documents are all among `kept`."""
    judged: dict[str, list[str]] = {}
    for row in qrels_tsv.read_text(encoding="utf-8").splitlines()[1:]:
        query_id, doc_id, _ = row.split("\t")
        judged.setdefault(query_id, []).append(doc_id)
    return {query_id: docs for query_id, docs in judged.items() if all(doc in kept for doc in docs)}


def write_msmarco_sample(scifact: Path, target: Path, num_docs: int = 300) -> Path:
    """collection.tsv, queries.<split>.tsv and TREC qrels.<split>.tsv: SciFact's train queries as
    the tuning split, its test queries as `dev.small`, restricted to the first `num_docs` passages."""
    target.mkdir(parents=True)
    kept: list[str] = []
    with (scifact / "corpus.jsonl").open(encoding="utf-8") as corpus, (target / "collection.tsv").open("w", encoding="utf-8") as out:
        for line in corpus:
            if len(kept) == num_docs:
                break
            document = json.loads(line)
            kept.append(document["_id"])
            out.write(f"{document['_id']}\t{' '.join((document['title'] + ' ' + document['text']).split())}\n")
    texts = {row["_id"]: row["text"] for row in map(json.loads, (scifact / "queries.jsonl").read_text(encoding="utf-8").splitlines())}
    for source, split in (("train", "train"), ("test", "dev.small")):
        judged = _judged(scifact / "qrels" / f"{source}.tsv", set(kept))
        (target / f"queries.{split}.tsv").write_text("".join(f"{q}\t{texts[q]}\n" for q in judged), encoding="utf-8")
        (target / f"qrels.{split}.tsv").write_text("".join(f"{q} 0 {doc} 1\n" for q, docs in judged.items() for doc in docs), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def msmarco_sample(scifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_msmarco_sample(scifact_dir, tmp_path_factory.mktemp("data") / "msmarco-sample")


@pytest.fixture(scope="module")
def bench_run(msmarco_sample: Path, tmp_path_factory: pytest.TempPathFactory, embedding_cache_dir: Path) -> tuple[Path, Path, str]:
    work = tmp_path_factory.mktemp("bench")
    args = [
        "bench",
        "--datasets",
        str(msmarco_sample),
        "--out",
        str(work / "results"),
        "--indexes",
        str(work / "indexes"),
        "--latency-queries",
        "5",
        "--tune-step",
        "0.25",
        "--timed-runs",
        "2",
    ]
    finished = braid(*args)
    assert finished.returncode == 0, finished.stderr
    return work / "results", work / "indexes" / msmarco_sample.name, finished.stdout


def test_bench_reports_every_method_with_ms_marco_headline_metrics(bench_run: tuple[Path, Path, str], msmarco_sample: Path) -> None:
    results, _, stdout = bench_run
    bench = json.loads((results / "bench.json").read_text())
    (report,) = bench["datasets"]
    assert (report["split"], report["headline_metric"]) == ("dev.small", "mrr@10")
    assert report["metrics"][:2] == ["mrr@10", "recall@1000"]
    assert [row["method"] for row in report["methods"]] == METHODS
    assert report["tuning"]["split"] == "train" and report["tuning"]["metric"] == "mrr@10"
    assert report["best_single"] in ("bm25", "splade", "dense")
    for row in report["methods"]:
        assert set(row["metrics"]) == set(report["metrics"]) and all(0 <= value <= 1 for value in row["metrics"].values())
        assert row["queries_per_second"] > 0
        single = row["method"] in ("bm25", "splade", "dense")
        assert (row["serial_bound_qps"] is None) == single and (row["fusion_ms_per_query"] is None) == single
        if not single:  # the bound of its retrievers run alone in this bench, and where the time went
            rates = [other["queries_per_second"] for other in report["methods"] if other["method"] in ("bm25", "splade", "dense")]
            assert row["serial_bound_qps"] == pytest.approx(1 / sum(1 / rate for rate in rates), abs=0.1)
            assert row["serial_bound_ratio"] > 0 and row["fusion_ms_per_query"] > 0 and 0 <= row["exact_ms_per_query"] <= row["fusion_ms_per_query"]
        assert 0 < row["latency_ms"]["p50_ms"] <= row["latency_ms"]["p99_ms"] and row["latency_ms"]["queries"] == 5
        assert (row["fusion"] is None) == (row["method"] in ("bm25", "splade", "dense"))
        if row["method"] != "bm25":
            assert 0 < row["significance"]["vs_bm25"]["t_test_p"] <= 1 and 0 < row["significance"]["vs_bm25"]["randomization_p"] <= 1
    assert "| method | MRR@10 | R@1000 |" in stdout and "| tuned (tuned on train) |" in stdout
    assert "| label-free (no labels: bm25=0.3,splade=0.25,dense=0.45) |" in stdout  # the prior, beside the tuned row
    equal = next(row for row in report["methods"] if row["method"] == "cc-zscore")
    assert equal["fusion"]["weights"] == {"bm25": 1 / 3, "splade": 1 / 3, "dense": 1 / 3}
    assert (results / "bench.md").read_text() in stdout
    assert bench["timed_runs"] == 2 and "(the fastest of 2 runs, each after a garbage collection)" in stdout
    floor = report["latency_floor"]  # what the host allows one hybrid query, from the same latency queries
    assert floor["queries"] == 5 and set(floor["parts"]["encode_share_ms"]) == {"splade", "dense"}
    assert 0 < floor["parts_alone"]["floor_ms"] and floor["target_over_slowest"] == 1.3
    assert f"{floor['parts_alone']['floor_over_slowest']:.2f}x the slowest retriever alone" in stdout


def test_run_files_and_per_query_metrics_agree_with_the_table(bench_run: tuple[Path, Path, str], msmarco_sample: Path) -> None:
    results, _, _ = bench_run
    (report,) = json.loads((results / "bench.json").read_text())["datasets"]
    per_query = json.loads(Path(report["per_query_file"]).read_text())
    queries = {line.split("\t")[0] for line in (msmarco_sample / "queries.dev.small.tsv").read_text().splitlines()}
    assert set(per_query) == set(METHODS)
    for row in report["methods"]:
        scores = per_query[row["method"]]
        assert set(scores) == queries
        for metric, mean in row["metrics"].items():
            assert sum(query[metric] for query in scores.values()) / len(scores) == pytest.approx(mean, abs=1e-4)
        run = read_trec_run(row["run_file"])
        assert set(run) <= queries and all(0 < len(ranking) <= 1000 for ranking in run.values())


def test_plots_tuned_fusion_and_the_index_record(bench_run: tuple[Path, Path, str]) -> None:
    results, index, _ = bench_run
    (report,) = json.loads((results / "bench.json").read_text())["datasets"]
    for picture in (results / "effectiveness_vs_latency.png", Path(report["tuning"]["plot"])):
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((index / "fusion.json").read_text())["config"] == report["tuning"]["best"]
    record = report["index"]
    assert record["documents"] == 300 and not record["reused"]
    assert record["build_seconds"] > 0 and record["peak_memory_mb"] > 100
    assert record["size_mb"]["total"] >= sum(record["size_mb"][name] for name in ("bm25", "splade", "dense"))


def test_a_second_run_reuses_the_index_and_keeps_its_build_cost(bench_run: tuple[Path, Path, str], msmarco_sample: Path) -> None:
    results, index, _ = bench_run
    first = json.loads((results / "bench.json").read_text())["datasets"][0]["index"]
    again = braid(
        "bench", "--datasets", str(msmarco_sample), "--out", str(results), "--indexes", str(index.parent), "--retrievers", "bm25", "--latency-queries", "3"
    )
    assert again.returncode == 0, again.stderr
    (report,) = json.loads((results / "bench.json").read_text())["datasets"]
    assert report["index"]["reused"] and report["index"]["build_seconds"] == first["build_seconds"]
    assert [row["method"] for row in report["methods"]] == ["bm25"] and report["tuning"] is None


def test_unknown_dataset_and_retriever_get_one_line_errors(tmp_path: Path) -> None:
    missing = braid("bench", "--datasets", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r"), "--indexes", str(tmp_path / "i"))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1 and "nowhere" in missing.stderr
    wrong = braid("bench", "--datasets", "scifact", "--retrievers", "bm25,colbert", "--out", str(tmp_path / "r"))
    assert wrong.returncode == 1 and "colbert" in wrong.stderr and "bm25, splade, dense" in wrong.stderr
