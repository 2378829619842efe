"""What a search returns to a user."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Hit:
    doc_id: str
    score: float
    rank: int
    title: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
