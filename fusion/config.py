"""How to fuse: method, normalization, weights, RRF k, missing-document policy. Stored as
`fusion.json` in an index directory once tuned (see braid.indexing.tuned_fusion)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, get_args

from braid.fusion.convex import MISSING_POLICIES, convex_combination
from braid.fusion.errors import BraidError
from braid.fusion.normalize import BOUNDED_NORMALIZATIONS, NORMALIZATIONS, Bounds
from braid.fusion.prior import equal_weights, label_free_weights
from braid.fusion.rrf import DEFAULT_RRF_K, reciprocal_rank_fusion
from braid.fusion.types import FusedHit, Ranking

FusionMethod = Literal["cc", "rrf"]
FUSION_METHODS: tuple[FusionMethod, ...] = get_args(FusionMethod)


# The largest weight accepted anywhere (weights are relative; see check_weight).
MAX_WEIGHT = 1e6


@dataclass(frozen=True)
class FusionConfig:
    """Empty `weights` means the label-free default (braid.fusion.prior): for convex combination of
    bm25+splade+dense the prior learned on other collections, else equal weights."""

    method: str = "cc"
    # Untuned, equal weights over bm25+splade+dense (test nDCG@10, SciFact / NFCorpus): zscore+exact
    # 0.7331 / 0.3565, zscore+zero 0.7346 / 0.3493, minmax+exact 0.7279 / 0.3582, RRF 0.7136 / 0.3520.
    # The prior's weights with zscore+exact: see braid.fusion.prior.
    norm: str = "zscore"
    weights: dict[str, float] = field(default_factory=dict)
    rrf_k: float = DEFAULT_RRF_K
    rrf_k_per_list: dict[str, float] = field(default_factory=dict)
    missing: str = "exact"
    # Per retriever, fixed ends of its minmax/tmm normalization range (braid.fusion.normalize.Bounds).
    bounds: dict[str, Bounds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_choice("fusion", self.method, FUSION_METHODS)
        _check_choice("normalization", self.norm, NORMALIZATIONS)
        _check_choice("missing-document policy", self.missing, MISSING_POLICIES)
        object.__setattr__(self, "bounds", {name: check_bounds(name, value) for name, value in self.bounds.items()})
        if self.bounds and self.method == "cc" and self.norm not in BOUNDED_NORMALIZATIONS:
            raise BraidError(f"normalization bounds {format_bounds(self.bounds)} apply to normalization {' or '.join(BOUNDED_NORMALIZATIONS)}, not {self.norm}")
        for name, value in self.weights.items():
            check_weight(name, value)
        for name, value in self.rrf_k_per_list.items():
            if not (math.isfinite(value) and value >= 0):
                raise BraidError(f"rrf k of {name} must be a finite number >= 0, got {value}")
        if self.weights and not any(value > 0 for value in self.weights.values()):
            raise BraidError(f"weights {format_weights(self.weights)} are all zero; give at least one retriever a positive weight")
        if not (math.isfinite(self.rrf_k) and self.rrf_k >= 0):
            raise BraidError(f"rrf k must be a finite number >= 0, got {self.rrf_k}")

    def fits(self, retrievers: Sequence[str]) -> bool:
        """Whether every retriever these settings name is among `retrievers`."""
        return set(self.weights) | set(self.rrf_k_per_list) | set(self.bounds) <= set(retrievers)

    def check_retrievers(self, available: Sequence[str]) -> None:
        for what, names in (("weight", [*self.weights, *self.rrf_k_per_list]), ("bounds", list(self.bounds))):
            for name in names:
                if name not in available:
                    raise BraidError(f"{what} for unknown retriever {name!r}; searching: {', '.join(available)}")

    def weights_for(self, names: Sequence[str]) -> dict[str, float]:
        if not self.weights:
            return label_free_weights(names, self.method)
        return {name: float(self.weights.get(name, 0.0)) for name in names}

    def applied(self, names: Sequence[str]) -> dict[str, Any]:
        """These settings as searches over `names` use them: the weights filled in, and where they came from."""
        return {**self.to_dict(), "weights": self.weights_for(names), "weights_from": weights_source(self, names)}

    def fuse(
        self, rankings: Mapping[str, Ranking], depth: int, exact_scores: Mapping[str, Mapping[str, float]] | None = None, explain: bool = True
    ) -> list[FusedHit]:
        names = list(rankings)
        if self.method == "rrf":
            return reciprocal_rank_fusion(rankings, self.rrf_k, self.rrf_k_per_list, self.weights_for(names), depth, explain)
        return convex_combination(rankings, self.weights_for(names), self.norm, self.missing, exact_scores, k=depth, explain=explain, bounds=self.bounds)

    def replace(self, **changes: Any) -> FusionConfig:
        return replace(self, **{key: value for key, value in changes.items() if value is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FusionConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise BraidError(f"unknown fusion setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def check_weight(name: str, value: float) -> None:
    """The one rule for a fusion weight, from the CLI, Python or HTTP: a finite number in
    [0, MAX_WEIGHT]. Weights are relative, so larger ones add nothing but overflow (inf scores)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
        raise BraidError(f"weight {name}={value} must be a finite number between 0 and {MAX_WEIGHT:g}")


def weights_source(config: FusionConfig, names: Sequence[str]) -> str:
    """Where the weights used came from, as reports say it: "given" (tuned or chosen), "label-free prior" or "equal"."""
    if config.weights:
        return "given"
    return "label-free prior" if label_free_weights(names, config.method) != equal_weights(names) else "equal"


def check_bounds(name: str, value: Sequence[float | None]) -> Bounds:
    """The one rule for a retriever's normalization bounds, from the CLI, Python, HTTP or fusion.json:
    [lowest, highest], each a finite number or None (taken from the list), lowest below highest."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise BraidError(f"bounds of {name} must be [lowest, highest] (null for an end taken from the list), got {value!r}")
    for end in value:
        if end is not None and (isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end)):
            raise BraidError(f"bounds of {name}: {end!r} is not a finite number (or null)")
    low, high = (None if end is None else float(end) for end in value)
    if low is not None and high is not None and not low < high:
        raise BraidError(f"bounds of {name}: the lowest ({low:g}) must be below the highest ({high:g})")
    return low, high


def parse_bounds(text: str) -> dict[str, Bounds]:
    """`dense=0:1,bm25=0:` -> {"dense": (0.0, 1.0), "bm25": (0.0, None)}; an empty end comes from the list."""
    bounds: dict[str, Bounds] = {}
    for part, name, equals, value in _named_parts(text):
        low, colon, high = value.partition(":")
        if not equals or not name or not colon:
            raise BraidError(f"--bounds: {part!r} is not NAME=LOW:HIGH (e.g. dense=0:1, or bm25=0: to keep the list's highest)")
        ends: list[float | None] = []
        for end in (low.strip(), high.strip()):
            try:
                ends.append(float(end) if end else None)
            except ValueError:
                raise BraidError(f"--bounds: {end!r} in {part!r} is not a number") from None
        bounds[name] = check_bounds(name, ends)
    if not bounds:
        raise BraidError("--bounds needs at least one NAME=LOW:HIGH")
    return bounds


def format_bounds(bounds: Mapping[str, Bounds]) -> str:
    return ",".join(f"{name}={'' if low is None else f'{low:g}'}:{'' if high is None else f'{high:g}'}" for name, (low, high) in bounds.items())


def _named_parts(text: str) -> Iterator[tuple[str, str, str, str]]:
    """(part, name, "=" or "", value) for each non-empty comma-separated NAME=VALUE part, stripped."""
    for part in (piece.strip() for piece in text.split(",")):
        if part:
            name, equals, value = part.partition("=")
            yield part, name.strip(), equals, value


def _check_choice(what: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise BraidError(f"unknown {what} {value!r}; choose from {', '.join(allowed)}")


def parse_weights(text: str) -> dict[str, float]:
    """`bm25=0.2,splade=0.3,dense=0.5` -> {"bm25": 0.2, ...}, with errors naming the bad part."""
    weights: dict[str, float] = {}
    for part, name, equals, value in _named_parts(text):
        if not equals or not name:
            raise BraidError(f"--weights: {part!r} is not NAME=WEIGHT (e.g. bm25=0.2,splade=0.3,dense=0.5)")
        try:
            weights[name] = float(value)
        except ValueError:
            raise BraidError(f"--weights: {value.strip()!r} in {part!r} is not a number") from None
    if not weights:
        raise BraidError("--weights needs at least one NAME=WEIGHT")
    return weights


def format_weights(weights: Mapping[str, float]) -> str:
    return ",".join(f"{name}={value:g}" for name, value in weights.items())
