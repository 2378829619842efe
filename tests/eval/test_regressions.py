"""The regression file: its reader and drift rules on constructed runs, the committed file against
its published references and the README, and (slow, in CI) the real benchmark against it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from braid.eval.regressions import (
    README_END,
    README_START,
    REGRESSION_FILE,
    Condition,
    Promise,
    Regressions,
    drifts,
    published_gaps,
    published_table,
    read_regressions,
    record,
    write_regressions,
)
from braid.indexing.config import cpu_has_native_bf16
from tests.support.cli import braid

README = Path(__file__).resolve().parents[2] / "README.md"


def _regressions() -> Regressions:
    return Regressions(
        index_command="braid index {dataset} --out {index}",
        bf16_tolerance=0.005,
        conditions=[
            Condition("bm25", "", "braid eval {index} {dataset} --retrievers bm25", 0.0005, {"scifact": {"ndcg@10": 0.6789}}),
            Condition("dense", "", "braid eval {index} {dataset} --retrievers dense", 0.002, {"scifact": {"ndcg@10": 0.6451}}),
            Condition("tuned", "", "braid eval {index} {dataset}", promise=Promise("ndcg@10", 0.01)),
        ],
    )


def test_each_condition_has_its_own_tolerance() -> None:
    close = {"bm25": {"scifact": {"ndcg@10": 0.6793}}, "dense": {"scifact": {"ndcg@10": 0.6469}}, "tuned": {"scifact": {"ndcg@10": 0.7}}}
    assert drifts(close, _regressions()) == []
    far = {"bm25": {"scifact": {"ndcg@10": 0.6795}}, "dense": {"scifact": {"ndcg@10": 0.6472}}, "tuned": {"scifact": {"ndcg@10": 0.7}}}
    assert drifts(far, _regressions()) == [
        "scifact bm25 ndcg@10: expected 0.6789 ± 0.0005, got 0.6795",
        "scifact dense ndcg@10: expected 0.6451 ± 0.002, got 0.6472",
    ]


def test_a_condition_the_run_lacks_is_reported_unless_it_was_not_asked_for() -> None:
    only_bm25 = {"bm25": {"scifact": {"ndcg@10": 0.6789}}}
    assert drifts(only_bm25, _regressions(), conditions=["bm25"]) == []
    assert "scifact dense ndcg@10: expected 0.6451, not measured" in drifts(only_bm25, _regressions())


def test_a_tuned_fusion_is_held_to_its_promise_not_to_exact_scores() -> None:
    singles = {"bm25": {"scifact": {"ndcg@10": 0.6789}}, "dense": {"scifact": {"ndcg@10": 0.6451}}}
    assert drifts({**singles, "tuned": {"scifact": {"ndcg@10": 0.6889}}}, _regressions(), conditions=["tuned"]) == []
    assert drifts({**singles, "tuned": {"scifact": {"ndcg@10": 0.6888}}}, _regressions(), conditions=["tuned"]) == [
        "scifact tuned ndcg@10: 0.6888 does not beat the best single retriever (bm25 0.6789) by 0.01"
    ]


def test_recording_replaces_scores_and_keeps_everything_else(tmp_path: Path) -> None:
    measured = {"bm25": {"scifact": {"ndcg@10": 0.67891234}, "nfcorpus": {"ndcg@10": 0.3218}}, "tuned": {"scifact": {"ndcg@10": 0.73}}}
    path = tmp_path / "regressions.yaml"
    write_regressions(record(measured, _regressions()), path)
    again = read_regressions(path)
    assert again.condition("bm25").scores == {"scifact": {"ndcg@10": 0.6789}, "nfcorpus": {"ndcg@10": 0.3218}}
    assert again.condition("dense") == _regressions().condition("dense")
    assert again.condition("tuned").promise == Promise("ndcg@10", 0.01) and again.condition("tuned").scores == {}


def test_a_file_that_is_not_a_regression_file_is_named(tmp_path: Path) -> None:
    from braid.fusion.errors import BraidError

    path = tmp_path / "bad.yaml"
    path.write_text("scifact: {bm25: {ndcg@10: 0.6789}}\n", encoding="utf-8")
    with pytest.raises(BraidError, match="bad.yaml: not a regression file"):
        read_regressions(path)


def test_the_committed_file_covers_every_condition_and_matches_its_published_references() -> None:
    regressions = read_regressions()
    names = [condition.name for condition in regressions.conditions]
    assert names == ["bm25", "splade", "splade-keep-stopwords", "dense", "cc-minmax", "cc-zscore", "cc-tmm", "rrf", "tuned"]
    for condition in regressions.conditions:
        if condition.promise is None:
            assert set(condition.scores) == {"scifact", "nfcorpus"}, condition.name
            assert all(set(metrics) == {"ndcg@10", "recall@100", "mrr@10", "map"} for metrics in condition.scores.values()), condition.name
    assert published_gaps(regressions) == []


def test_the_readme_table_is_the_committed_file() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block.strip() == published_table(read_regressions()).strip()


@pytest.mark.slow
def test_full_benchmark_matches_the_regression_file(data_root: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    """SciFact from scratch in float32: every condition within its tolerance of eval/regressions.yaml
    (the reference settings run by their own command on the same index), and the fusion tuned on
    train/dev beats every single retriever on test by >= 0.01 nDCG@10. NFCorpus (another 8 minutes
    of encoding on 2 cores) is checked the same way by `braid bench --check` before a release; its
    BM25 lists by tests/engine/test_bm25_whole_datasets.py and its bf16 scores below."""
    out, indexes = tmp_path / "results", tmp_path / "indexes"
    finished = braid(
        "bench", "--datasets", "scifact", "--out", str(out), "--indexes", str(indexes), "--precision", "float32",
        "--data-dir", str(data_root), "--latency-queries", "50", "--timed-runs", "1", "--check", str(REGRESSION_FILE),
        timeout=3600,  # float32 encoding on 2 cores: about 10 minutes
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    regressions = read_regressions()
    reference = regressions.condition("splade-keep-stopwords")
    measured: dict[str, dict[str, dict[str, float]]] = {reference.name: {}}
    for dataset in ("scifact",):
        argv = shlex.split(reference.command_for(dataset=dataset, index=str(indexes / dataset)))
        scored = braid(*argv[1:], "--json", "--data-dir", str(data_root))
        assert scored.returncode == 0, scored.stderr
        measured[reference.name][dataset] = json.loads(scored.stdout)["metrics"]
    assert drifts(measured, regressions, conditions=[reference.name]) == []
    bench = json.loads((out / "bench.json").read_text())
    for report in bench["datasets"]:
        scores = {row["method"]: row["metrics"]["ndcg@10"] for row in report["methods"]}
        assert scores["tuned"] >= max(scores[name] for name in ("bm25", "splade", "dense")) + 0.01, (report["dataset"], scores)


@pytest.mark.slow
@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bfloat16: the default is float32, checked above")
def test_the_bfloat16_default_stays_near_float32(data_root: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    """bf16 rankings differ by CPU (AMX vs AVX512-BF16); each stays within the file's bf16 tolerance."""
    regressions = read_regressions()
    for dataset in ("scifact", "nfcorpus"):
        index = tmp_path / dataset
        built = braid("index", dataset, "--out", str(index), "--retrievers", "splade,dense", "--data-dir", str(data_root))
        assert built.returncode == 0, built.stderr
        for name in ("splade", "dense"):
            scored = braid("eval", str(index), dataset, "--retrievers", name, "--json", "--data-dir", str(data_root))
            assert scored.returncode == 0, scored.stderr
            metrics = json.loads(scored.stdout)["metrics"]
            for metric in ("ndcg@10", "recall@100"):
                expected = regressions.condition(name).scores[dataset][metric]
                assert metrics[metric] == pytest.approx(expected, abs=regressions.bf16_tolerance), (dataset, name, metric)
