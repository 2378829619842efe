"""The label-free default weights: a prior from labelled tuning on other collections.

Without labels braid cannot learn a collection's weights, but it can carry over what labels taught
elsewhere. `braid tune` (step 0.1, nDCG@10) picked bm25/splade/dense = 0.3/0.3/0.4 on SciFact train
and 0.3/0.2/0.5 on NFCorpus dev; the prior is their mean. Applied to a collection it was not learned
on (the other one), with braid's default normalization (z-score, missing = exact), it scored at
least as well as equal weights on every check (AMD EPYC, test queries): SciFact nDCG@10 0.7356 vs
0.7330, NFCorpus nDCG@10 0.3570 vs 0.3568, NFCorpus R@100 0.3205 vs 0.3153 (where dense leads the
single retrievers). The pooled prior itself: 0.7326, 0.3586, 0.3234. `python -m
braid.eval.bench_label_free` re-measures all of it (README, "Fusion without labels"). It was measured for
convex combination over exactly these three retriever kinds, so that is the only place it applies;
any other set of retrievers, and RRF, keep equal weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Mean of the labelled winners' weights on SciFact (train) and NFCorpus (dev).
PRIOR_WEIGHTS: Mapping[str, float] = {"bm25": 0.3, "splade": 0.25, "dense": 0.45}
PRIOR_SOURCE = "mean of braid tune's weights on SciFact train (0.3/0.3/0.4) and NFCorpus dev (0.3/0.2/0.5)"


def equal_weights(names: Sequence[str]) -> dict[str, float]:
    return {name: 1.0 / len(names) for name in names}


def label_free_weights(names: Sequence[str], method: str = "cc") -> dict[str, float]:
    """The prior when convex combination fuses exactly the retriever kinds it was learned on, else equal weights."""
    if method == "cc" and set(names) == set(PRIOR_WEIGHTS) and len(names) == len(PRIOR_WEIGHTS):
        return {name: PRIOR_WEIGHTS[name] for name in names}
    return equal_weights(names)
