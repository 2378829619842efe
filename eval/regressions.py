"""The regression file (pyserini's two-click-reproduction idea): named conditions, each the exact
`braid` command that produces it, with expected scores per dataset and a tolerance.

One reader serves `braid bench --check`, the slow regression test and the README's
published-vs-measured table. Expected scores are float32 encodings: bfloat16 results move with the
CPU's kernels (Intel AMX and AMD AVX512-BF16 disagree in the third decimal of MRR), float32 does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from braid.fusion.errors import BraidError

REGRESSION_FILE = Path(__file__).resolve().parent / "regressions.yaml"
README_START = "<!-- braid regressions: start -->"
README_END = "<!-- braid regressions: end -->"

# dataset -> metric -> value
Scores = dict[str, dict[str, float]]
# The conditions that are one retriever alone: what a promise is measured against.
SINGLE_CONDITIONS = ("bm25", "splade", "dense")


@dataclass(frozen=True)
class Promise:
    """What a condition guarantees instead of exact scores (a tuned fusion may pick another grid
    point when a score moves by 1e-4): beat every single retriever on `metric` by `margin`."""

    metric: str
    margin: float


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    command: str  # `{dataset}` and `{index}` are filled in per dataset
    tolerance: float = 0.0
    scores: Scores = field(default_factory=dict)
    published_source: str = ""
    published: Scores = field(default_factory=dict)
    promise: Promise | None = None

    def command_for(self, **fields: str) -> str:
        """The command with its placeholders (`{dataset}`, `{index}`, ...) filled in."""
        return self.command.format(**fields)


@dataclass(frozen=True)
class Regressions:
    """The whole file: how the index is built, the bf16-vs-float32 allowance, the conditions."""

    index_command: str
    bf16_tolerance: float
    conditions: list[Condition]

    def condition(self, name: str) -> Condition:
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise BraidError(f"no condition named {name!r} in the regression file")

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(dataset for condition in self.conditions for dataset in condition.scores))


def read_regressions(path: Path = REGRESSION_FILE) -> Regressions:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise BraidError(f"{path}: cannot read the regression file ({error})") from error
    try:
        return Regressions(
            index_command=str(loaded["index"]),
            bf16_tolerance=float(loaded["bf16_tolerance"]),
            conditions=[_condition(entry) for entry in loaded["conditions"]],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BraidError(f"{path}: not a regression file ({type(error).__name__}: {error}); see eval/regressions.yaml") from error


def _condition(entry: Mapping[str, Any]) -> Condition:
    published = entry.get("published") or {}
    promise = entry.get("promise")
    return Condition(
        name=str(entry["name"]),
        description=str(entry.get("description", "")),
        command=str(entry["command"]),
        tolerance=float(entry.get("tolerance", 0.0)),
        scores=_scores(entry.get("scores") or {}),
        published_source=str(published.get("source", "")),
        published=_scores(published.get("scores") or {}),
        promise=Promise(str(promise["metric"]), float(promise["beats_best_single_by"])) if promise else None,
    )


def _scores(raw: Mapping[str, Mapping[str, Any]]) -> Scores:
    return {str(dataset): {str(metric): float(value) for metric, value in metrics.items()} for dataset, metrics in raw.items()}


def measured_by_condition(bench: Mapping[str, Any]) -> dict[str, Scores]:
    """A `braid bench` result as condition -> dataset -> metric -> value (conditions are bench rows)."""
    measured: dict[str, Scores] = {}
    for report in bench["datasets"]:
        for row in report["methods"]:
            measured.setdefault(row["method"], {})[report["dataset"]] = dict(row["metrics"])
    return measured


def drifts(measured: Mapping[str, Scores], regressions: Regressions, conditions: Sequence[str] | None = None) -> list[str]:
    """One line per expected score that moved beyond its tolerance or was not measured, and per
    promise broken, for the datasets that were measured. `conditions` limits the names checked."""
    datasets = {dataset for scores in measured.values() for dataset in scores}
    problems = []
    for condition in regressions.conditions:
        if conditions is not None and condition.name not in conditions:
            continue
        for dataset in sorted(datasets):
            got = measured.get(condition.name, {}).get(dataset)
            if condition.promise is not None:
                problems += _broken_promise(condition, dataset, measured)
            for metric, value in condition.scores.get(dataset, {}).items():
                if got is None or metric not in got:
                    problems.append(f"{dataset} {condition.name} {metric}: expected {value:.4f}, not measured")
                elif abs(got[metric] - value) > condition.tolerance:
                    problems.append(f"{dataset} {condition.name} {metric}: expected {value:.4f} ± {condition.tolerance}, got {got[metric]:.4f}")
    return problems


def _broken_promise(condition: Condition, dataset: str, measured: Mapping[str, Scores]) -> list[str]:
    assert condition.promise is not None
    metric, margin = condition.promise.metric, condition.promise.margin
    got = measured.get(condition.name, {}).get(dataset, {}).get(metric)
    singles = {name: scores[dataset][metric] for name, scores in measured.items() if name in SINGLE_CONDITIONS and metric in scores.get(dataset, {})}
    if got is None or not singles:
        return [f"{dataset} {condition.name} {metric}: promise to beat every single retriever by {margin} not measured"]
    best, best_score = max(singles.items(), key=lambda item: item[1])
    if got < best_score + margin:
        return [f"{dataset} {condition.name} {metric}: {got:.4f} does not beat the best single retriever ({best} {best_score:.4f}) by {margin}"]
    return []


def record(measured: Mapping[str, Scores], regressions: Regressions) -> Regressions:
    """The same conditions with the measured scores replacing the expected ones (promises and
    conditions this run did not measure keep what they had)."""
    updated = []
    for condition in regressions.conditions:
        scores = {dataset: dict(metrics) for dataset, metrics in condition.scores.items()}
        if condition.promise is None:
            for dataset, metrics in measured.get(condition.name, {}).items():
                scores[dataset] = {metric: round(value, 4) for metric, value in metrics.items()}
        updated.append(Condition(**{**condition.__dict__, "scores": scores}))
    return Regressions(regressions.index_command, regressions.bf16_tolerance, updated)


def write_regressions(regressions: Regressions, path: Path) -> None:
    conditions = []
    for condition in regressions.conditions:
        entry: dict[str, Any] = {"name": condition.name, "description": condition.description, "command": condition.command}
        if condition.promise is not None:
            entry["promise"] = {"metric": condition.promise.metric, "beats_best_single_by": condition.promise.margin}
        else:
            entry["tolerance"] = condition.tolerance
            entry["scores"] = condition.scores
        if condition.published:
            entry["published"] = {"source": condition.published_source, "scores": condition.published}
        conditions.append(entry)
    document = {"index": regressions.index_command, "bf16_tolerance": regressions.bf16_tolerance, "conditions": conditions}
    path.write_text(_HEADER + yaml.safe_dump(document, sort_keys=False, width=200, allow_unicode=True), encoding="utf-8")


_HEADER = (
    "# braid's expected scores, in the shape of pyserini's two-click reproductions: each condition is the\n"
    "# exact command that produces it, with scores per dataset (BEIR test split) and a tolerance.\n"
    "# Read by braid.eval.regressions for `braid bench --check`, tests/eval/test_regressions.py (slow, in CI)\n"
    "# and the README's published-vs-measured table. Scores come from float32 encodings, which agree across\n"
    "# CPUs; the bfloat16 default must stay within bf16_tolerance (nDCG@10, recall@100) of them.\n"
    "# Rewrite the scores with `braid bench --precision float32 --record FILE` only when a change means to move them.\n"
)


def published_table(regressions: Regressions) -> str:
    """The README's table: every condition with a published reference, published vs expected."""
    rows = ["| condition | dataset | metric | published | braid (float32) | tolerance | source |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for condition in regressions.conditions:
        for dataset, metrics in condition.published.items():
            for metric, published in metrics.items():
                ours = condition.scores.get(dataset, {}).get(metric)
                shown = "—" if ours is None else f"{ours:.4f}"
                rows.append(f"| {condition.name} | {dataset} | {metric} | {published:.4f} | {shown} | {condition.tolerance} | {condition.published_source} |")
    return "\n".join(rows) + "\n"


def published_gaps(regressions: Regressions) -> list[str]:
    """Expected scores that stray from their published reference by more than the tolerance."""
    gaps = []
    for condition in regressions.conditions:
        for dataset, metrics in condition.published.items():
            for metric, published in metrics.items():
                ours = condition.scores.get(dataset, {}).get(metric)
                if ours is None or abs(ours - published) > condition.tolerance:
                    gaps.append(f"{condition.name} {dataset} {metric}: published {published:.4f}, expected {ours}")
    return gaps
