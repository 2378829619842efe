"""What fusion consumes and produces: ranked lists in, fused hits that explain themselves out."""

from __future__ import annotations

from dataclasses import dataclass

# One retriever's answer to one query: (doc id, score), best first.
Ranking = list[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One retriever's part in a fused hit. `rank` is None when the retriever did not return the
    document; `score` is then the filled-in value (list minimum, zero, or the exact score)."""

    rank: int | None
    score: float | None
    normalized: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {"rank": self.rank, "score": self.score, "normalized": self.normalized}


@dataclass(frozen=True, slots=True)
class FusedHit:
    doc_id: str
    score: float
    sources: dict[str, Contribution]
