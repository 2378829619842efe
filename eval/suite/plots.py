"""The benchmark's picture: effectiveness against single-query latency, one panel per dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from braid.eval.suite.tables import metric_label


def plot_effectiveness_vs_latency(reports: Sequence[Mapping[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(reports), figsize=(5.5 * len(reports), 4.2), squeeze=False)
    for axis, report in zip(axes[0], reports):
        metric = report["headline_metric"]
        for row in report["methods"]:
            latency = (row.get("latency_ms") or {}).get("p50_ms")
            if latency is None:
                continue
            single = len(row["retrievers"]) == 1
            axis.scatter(latency, row["metrics"][metric], color="#777" if single else "#2a7", marker="o" if single else "D")
            axis.annotate(row["method"], (latency, row["metrics"][metric]), textcoords="offset points", xytext=(5, 3), fontsize=8)
        axis.set_xlabel(f"single-query latency p50, ms (depth {report['methods'][0].get('latency_ms', {}).get('depth', '?')})")
        axis.set_ylabel(metric_label(metric))
        axis.set_title(f"{report['dataset']} ({report['split']})")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
