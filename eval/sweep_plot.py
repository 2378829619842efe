"""The picture `braid tune` draws: the tuned metric against each retriever's weight, and against RRF k."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_sweep(points: Sequence[Any], names: Sequence[str], metric: str, path: Path, title: str) -> None:
    """Left: in the winning convex-combination family, the best value at each weight of each
    retriever (the others' weights free). Right: the best RRF value at each k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cc = [point for point in points if point.config.method == "cc"]
    rrf = [point for point in points if point.config.method == "rrf"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    if cc:
        leader = max(cc, key=lambda point: point.value).config
        family = [point for point in cc if (point.config.norm, point.config.missing) == (leader.norm, leader.missing)]
        for name in names:
            weights = sorted({point.config.weights[name] for point in family})
            values = [max(point.value for point in family if point.config.weights[name] == weight) for weight in weights]
            left.plot(weights, values, marker="o", label=name)
        left.set_title(f"convex combination, {leader.norm} / missing={leader.missing}")
        left.set_xlabel("weight of the retriever (others: best)")
        left.set_ylabel(metric)
        left.legend()
    if rrf:
        ks = sorted({point.config.rrf_k for point in rrf})
        right.plot(ks, [max(point.value for point in rrf if point.config.rrf_k == k) for k in ks], marker="o", color="black")
        right.set_title("RRF (best weights at each k)")
        right.set_xlabel("k")
        right.set_ylabel(metric)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
