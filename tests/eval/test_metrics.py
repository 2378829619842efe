"""braid's metrics must equal trec_eval's (through pytrec_eval) on the same runs, to 1e-6."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import pytrec_eval

from braid.eval.metrics import Metric, evaluate, trec_order
from braid.eval.qrels import read_qrels
from braid.fusion.errors import BraidError

# braid name -> pytrec_eval measure (mrr@k is recip_rank over the top k, checked separately)
_EQUIVALENT = {
    "ndcg@10": "ndcg_cut_10",
    "ndcg@1000": "ndcg_cut_1000",
    "recall@5": "recall_5",
    "recall@100": "recall_100",
    "p@10": "P_10",
    "p@1": "P_1",
    "map": "map",
    "map@100": "map_cut_100",
    "mrr": "recip_rank",
}
_TREC_EVAL_MEASURES = {"ndcg_cut.10,1000", "recall.5,100", "P.1,10", "map", "map_cut.100", "recip_rank"}


def _random_run(qrels: dict, pool: list[str], rng: random.Random, depth: int) -> dict[str, dict[str, float]]:
    """Runs that mix judged and unjudged docs, with many exact score ties (to test tie-breaking)."""
    run = {}
    for query_id, judged in qrels.items():
        candidates = list(judged) + rng.sample(pool, depth)
        docs = list(dict.fromkeys(rng.sample(candidates, min(depth, len(candidates)))))
        run[query_id] = {doc: float(rng.randint(0, 20)) / 4 for doc in docs}
    return run


def _assert_equal_to_trec_eval(qrels: dict, run: dict[str, dict[str, float]]) -> None:
    reference = pytrec_eval.RelevanceEvaluator(qrels, _TREC_EVAL_MEASURES)
    expected = reference.evaluate(run)
    ranked = {qid: list(scores.items()) for qid, scores in run.items()}
    ours = evaluate(ranked, qrels, metrics=list(_EQUIVALENT), drop_self_hits=False)
    checked = 0
    for query_id, values in expected.items():
        for name, measure in _EQUIVALENT.items():
            assert ours.per_query[query_id][name] == pytest.approx(values[measure], abs=1e-6), (query_id, name)
            checked += 1
    assert checked == len(expected) * len(_EQUIVALENT) > 0


def test_graded_nfcorpus_qrels_match_trec_eval(nfcorpus_dir: Path) -> None:
    qrels = read_qrels(nfcorpus_dir / "qrels" / "test.tsv")
    assert {grade for judged in qrels.values() for grade in judged.values()} == {1, 2}
    pool = sorted({doc for judged in qrels.values() for doc in judged})
    _assert_equal_to_trec_eval(qrels, _random_run(qrels, pool, random.Random(7), depth=150))


def test_binary_scifact_qrels_match_trec_eval(scifact_dir: Path) -> None:
    qrels = read_qrels(scifact_dir / "qrels" / "test.tsv")
    pool = sorted({doc for judged in qrels.values() for doc in judged})
    _assert_equal_to_trec_eval(qrels, _random_run(qrels, pool, random.Random(11), depth=40))


def test_queries_without_relevant_docs_match_trec_eval() -> None:
    qrels = {"q1": {"a": 0, "b": 0}, "q2": {"a": 1, "c": 2}, "q3": {"z": 1}}
    run = {"q1": {"a": 3.0, "b": 2.0}, "q2": {"b": 1.0, "a": 1.0, "c": 1.0}, "q3": {"a": 0.5}}
    _assert_equal_to_trec_eval(qrels, run)
    ours = evaluate({q: list(s.items()) for q, s in run.items()}, qrels, metrics=["ndcg@10", "recall@100"], drop_self_hits=False)
    assert ours.per_query["q1"] == {"ndcg@10": 0.0, "recall@100": 0.0}


def test_mrr_at_k_is_reciprocal_rank_of_the_top_k(nfcorpus_dir: Path) -> None:
    qrels = read_qrels(nfcorpus_dir / "qrels" / "test.tsv")
    pool = sorted({doc for judged in qrels.values() for doc in judged})
    run = _random_run(qrels, pool, random.Random(3), depth=60)
    truncated = {qid: dict(trec_order(list(scores.items()))[:10]) for qid, scores in run.items()}
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(truncated)
    ours = evaluate({q: list(s.items()) for q, s in run.items()}, qrels, metrics=["mrr@10"], drop_self_hits=False)
    for query_id, values in expected.items():
        assert ours.per_query[query_id]["mrr@10"] == pytest.approx(values["recip_rank"], abs=1e-6)


def test_ties_are_broken_by_doc_id_descending_as_trec_eval() -> None:
    assert [doc for doc, _ in trec_order([("a", 1.0), ("c", 1.0), ("b", 2.0), ("d", 1.0)])] == ["b", "d", "c", "a"]


def test_self_hits_are_dropped_unless_asked_not_to() -> None:
    qrels = {"q1": {"d1": 1}}
    run = {"q1": [("q1", 9.0), ("d1", 5.0)]}
    assert evaluate(run, qrels, metrics=["mrr@10"]).means["mrr@10"] == 1.0
    assert evaluate(run, qrels, metrics=["mrr@10"], drop_self_hits=False).means["mrr@10"] == 0.5


def test_judged_query_missing_from_run_counts_as_zero() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    result = evaluate({"q1": [("d1", 1.0)]}, qrels, metrics=["ndcg@10"])
    assert result.num_queries == 2
    assert result.means["ndcg@10"] == 0.5


def test_unknown_metric_names_the_allowed_ones() -> None:
    with pytest.raises(BraidError, match="unknown metric 'bleu'.*ndcg@k"):
        Metric.parse("bleu")
    with pytest.raises(BraidError, match="needs a cutoff"):
        Metric.parse("recall")
