"""What a benchmark compares: each retriever alone, then their fusions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from braid.fusion.config import FusionConfig
from braid.fusion.prior import equal_weights
from braid.fusion.rrf import DEFAULT_RRF_K
from braid.fusion.tune import TUNED_NORMS

CC_NORMALIZATIONS = TUNED_NORMS


@dataclass(frozen=True)
class Method:
    """A row of the table: the retrievers searched and, for two or more, how their lists are fused."""

    name: str
    retrievers: tuple[str, ...]
    fusion: FusionConfig | None = None
    note: str = ""

    @property
    def is_single(self) -> bool:
        return len(self.retrievers) == 1


def standard_methods(retrievers: Sequence[str]) -> list[Method]:
    """Singles, then untuned fusions: CC with equal weights per normalization (missing scores
    computed exactly), and RRF with the default k (60). The tuned fusion is added once it has been tuned."""
    methods = [Method(name, (name,)) for name in retrievers]
    if len(retrievers) < 2:
        return methods
    together = tuple(retrievers)
    for norm in CC_NORMALIZATIONS:
        methods.append(Method(f"cc-{norm}", together, FusionConfig(method="cc", norm=norm, weights=equal_weights(together)), "equal weights"))
    methods.append(Method("rrf", together, FusionConfig(method="rrf"), f"k={DEFAULT_RRF_K:g}"))
    return methods


def tuned_method(retrievers: Sequence[str], fusion: FusionConfig, split: str) -> Method:
    return Method("tuned", tuple(retrievers), fusion, f"tuned on {split}")


def label_free_method(retrievers: Sequence[str]) -> Method:
    """braid's default without labels (an index with no fusion.json): see braid.fusion.prior."""
    weights = FusionConfig().weights_for(list(retrievers))
    return Method("label-free", tuple(retrievers), FusionConfig(), "no labels: " + ",".join(f"{name}={value:g}" for name, value in weights.items()))
