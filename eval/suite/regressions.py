"""Expected benchmark scores kept in the repository (pyserini's two-click-reproduction idea): a run
whose metrics drift from them by more than the tolerance is a regression until explained."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from braid.engine.errors import BraidError

# BM25 is deterministic to the last digit; neural scores may move a little with the CPU's kernels.
TOLERANCES = {"bm25": 0.0005, "default": 0.002}
HEADER = (
    "# Scores `braid bench` must keep producing (default settings), per dataset and method.\n"
    "# Checked by tests/eval/suite/test_regressions.py (slow; CI runs it) and by `braid bench --check FILE`.\n"
    "# Regenerate with `braid bench --datasets scifact,nfcorpus --record FILE` only when a change is meant to move them.\n"
)


def record(bench: Mapping[str, Any]) -> dict[str, Any]:
    """The expectations a benchmark run implies."""
    expected: dict[str, Any] = {"tolerance": dict(TOLERANCES)}
    for report in bench["datasets"]:
        expected[report["dataset"]] = {row["method"]: dict(row["metrics"]) for row in report["methods"]}
    return expected


def write_expectations(bench: Mapping[str, Any], path: Path) -> None:
    path.write_text(HEADER + yaml.safe_dump(record(bench), sort_keys=False), encoding="utf-8")


def read_expectations(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise BraidError(f"{path}: cannot read the regression expectations ({error})") from error
    if not isinstance(loaded, dict):
        raise BraidError(f"{path}: expected a mapping of dataset -> method -> metrics")
    return loaded


def drifts(bench: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """One line per metric that moved beyond its tolerance, or that the run did not produce."""
    tolerances = {**TOLERANCES, **expected.get("tolerance", {})}
    problems = []
    measured = {report["dataset"]: {row["method"]: row["metrics"] for row in report["methods"]} for report in bench["datasets"]}
    for dataset, methods in expected.items():
        if dataset == "tolerance" or dataset not in measured:
            continue
        for method, metrics in methods.items():
            tolerance = tolerances.get(method, tolerances["default"])
            for metric, value in metrics.items():
                got = measured[dataset].get(method, {}).get(metric)
                if got is None:
                    problems.append(f"{dataset} {method} {metric}: expected {value:.4f}, not measured")
                elif abs(got - value) > tolerance:
                    problems.append(f"{dataset} {method} {metric}: expected {value:.4f} ± {tolerance}, got {got:.4f}")
    return problems
