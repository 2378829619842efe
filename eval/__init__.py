"""Evaluation with trec_eval semantics, run files, and benchmarks (`python -m braid.eval.bench_bm25`)."""
