"""Evaluation with trec_eval semantics, datasets and run files, the regression file, and benchmarks
(`braid bench`; `python -m braid.eval.bench_bm25` and siblings)."""

from __future__ import annotations

from braid.eval.datasets import Dataset, Split, resolve_dataset
from braid.eval.metrics import Evaluation, Metric, evaluate
from braid.eval.qrels import Qrels, read_qrels
from braid.eval.regressions import Regressions, read_regressions
from braid.eval.runs import Run, read_trec_run, write_trec_run

__all__ = [
    "Dataset",
    "Evaluation",
    "Metric",
    "Qrels",
    "Regressions",
    "Run",
    "Split",
    "evaluate",
    "read_qrels",
    "read_regressions",
    "read_trec_run",
    "resolve_dataset",
    "write_trec_run",
]
