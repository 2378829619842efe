"""The benchmark's Markdown table, and keeping the README's copy of it current."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from braid.fusion.errors import BraidError

README_START = "<!-- braid bench: start -->"
README_END = "<!-- braid bench: end -->"
_LABELS = {"ndcg": "nDCG", "recall": "R", "mrr": "MRR", "map": "MAP", "p": "P"}


def metric_label(name: str) -> str:
    family, _, cutoff = name.partition("@")
    return _LABELS.get(family, family) + (f"@{cutoff}" if cutoff else "")


def _p_values(significance: Mapping[str, Any] | None) -> str:
    if not significance:
        return "—"
    return f"{_p(significance['t_test_p'])} / {_p(significance['randomization_p'])}"


def _p(value: float) -> str:
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _bound(ratio: float | None, bound: float | None) -> str:
    return "—" if ratio is None or bound is None else f"{ratio:.2f} (of {bound:.0f})"


def _fusion_ms(total: float | None, exact: float | None) -> str:
    if total is None:
        return "—"
    return f"{total:.2f}" + (f" ({exact:.2f} exact)" if exact else "")


def _ratios(latency: Mapping[str, Any]) -> str:
    if "p50_over_serial_sum" not in latency:
        return "—"
    return f"{latency['p50_over_serial_sum']:.2f} / {latency['p50_over_slowest']:.2f}"


def dataset_table(report: Mapping[str, Any]) -> str:
    """One dataset: a row per method with metrics, p-values and speed."""
    metrics: Sequence[str] = report["metrics"]
    headline = report["headline_metric"]
    header = [
        "method", *[metric_label(name) for name in metrics],
        f"p vs BM25 ({metric_label(headline)}; t / rand.)", f"p vs best single ({report['best_single']})",
        "p50 ms", "p99 ms", "p50 / serial sum, / slowest", "q/s", "q/s / serial bound", "fusion ms/q",
    ]  # fmt: skip
    applied = report.get("filter")
    scope = f"; filter {json.dumps(applied['filter'])}: {applied['matched']:,} of {applied['documents']:,} documents" if applied else ""
    lines = [f"**{report['dataset']}** ({report['split']}, {report['queries']} queries{scope})", "", _row(header), _row(["---"] * len(header))]
    for row in report["methods"]:
        latency = row.get("latency_ms") or {}
        cells = [
            row["method"] + (f" ({row['note']})" if row.get("note") else ""),
            *[f"{row['metrics'][name]:.4f}" for name in metrics],
            _p_values(row["significance"].get("vs_bm25")), _p_values(row["significance"].get("vs_best_single")),
            _ms(latency.get("p50_ms")), _ms(latency.get("p99_ms")), _ratios(latency), f"{row['queries_per_second']:.0f}",
            _bound(row.get("serial_bound_ratio"), row.get("serial_bound_qps")), _fusion_ms(row.get("fusion_ms_per_query"), row.get("exact_ms_per_query")),
        ]  # fmt: skip
        lines.append(_row(cells))
    if report.get("latency_floor"):
        lines += ["", floor_line(report["latency_floor"])]
    return "\n".join(lines)


def floor_line(floor: Mapping[str, Any]) -> str:
    """What the host allows one hybrid query (braid.eval.latency_floor), in a sentence."""
    alone, shared = floor["parts_alone"], floor.get("parts_in_one_process")
    allowed = "within" if floor["host_allows_target"] else "beyond"
    beside = f"; with the encoders' times side by side in one process, {shared['floor_over_slowest']:.2f}x" if shared else ""
    return (
        f"Latency floor (`python -m braid.eval.latency_floor`: each part of a hybrid query timed alone, then the best any way of running them "
        f"could do): {alone['floor_ms']:.1f} ms, {alone['floor_over_slowest']:.2f}x the slowest retriever alone{beside}. "
        f"{floor['target_over_slowest']:g}x the slowest is {allowed} what this host allows; the hybrid took {floor['hybrid_over_slowest']:.2f}x in this measurement."
    )


def index_table(reports: Sequence[Mapping[str, Any]]) -> str:
    """One line per dataset: what building its index cost."""
    retrievers = list(dict.fromkeys(name for report in reports for name in report["index"]["retrievers"]))
    header = ["dataset", "documents", "build s", "build peak memory MB", *[f"{name} MB" for name in retrievers], "index MB"]
    lines = [_row(header), _row(["---"] * len(header))]
    for report in reports:
        index = report["index"]
        sizes = index["size_mb"]
        build = "—" if index["build_seconds"] is None else f"{index['build_seconds']:.0f}"
        peak = "—" if index["peak_memory_mb"] is None else f"{index['peak_memory_mb']:.0f}"
        lines.append(
            _row([report["dataset"], str(index["documents"]), build, peak, *[f"{sizes.get(name, 0):.1f}" for name in retrievers], f"{sizes['total']:.1f}"])
        )
    return "\n".join(lines)


def markdown(bench: Mapping[str, Any]) -> str:
    machine = bench["machine"]
    parts = [
        f"Measured {bench.get('date', '')} by `{bench['command']}` on {machine['cpus']} CPUs ({machine['processor']}, {machine.get('cpu_model', 'unknown CPU')}), "
        f"Python {machine['python']}. Latency: one query at a time, {bench['latency_depth']} candidates per retriever, the methods taking "
        f"turns of {bench.get('latency_block', 1)} queries (each after an untimed one, the engine's threads ended between turns); "
        f"q/s: all queries in one batch at depth {bench['eval_depth']} (the fastest of {bench.get('timed_runs', 1)} runs, each after a garbage collection); serial bound: 1 / sum(1 / q/s) of the method's retrievers alone "
        "in this run; p50 / serial sum, / slowest: a fused method's p50 over the sum and over the largest of its retrievers' p50s alone "
        f"(one query's retrievers run {bench.get('execution', 'as the engine chose')}); fusion ms/q: per query of such a batch, everything after retrieval (of it, the missing documents' exact scores), each the fastest of the runs. p-values: paired t-test / randomization test "
        f"({bench['randomization_rounds']:,} rounds) on the per-query headline metric.",
    ]
    for report in bench["datasets"]:
        parts.append(dataset_table(report))
    parts.append("Index cost (built once, from scratch, in a fresh process):\n\n" + index_table(bench["datasets"]))
    return "\n\n".join(parts) + "\n"


def update_readme(readme: Path, table: str) -> None:
    """Replace what lies between the README's bench markers with `table`."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise BraidError(f"{readme}: no '{README_START}' ... '{README_END}' block to replace; add the two markers where the table goes")
    readme.write_text(pattern.sub(lambda _: f"{README_START}\n{table}{README_END}", text, count=1), encoding="utf-8")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
