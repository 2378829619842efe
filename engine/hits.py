"""What a search returns to a user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from braid.fusion.types import Contribution


@dataclass(frozen=True, slots=True)
class Hit:
    """`sources` explains the hit: per retriever, its rank (None if it did not find the document),
    raw score and the normalized value that entered the fused score."""

    doc_id: str
    score: float
    rank: int
    title: str
    sources: dict[str, Contribution] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "score": self.score,
            "rank": self.rank,
            "title": self.title,
            "sources": {name: part.to_dict() for name, part in self.sources.items()},
        }
