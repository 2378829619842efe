"""Deterministic synthetic metadata for filter tests and benchmarks: each field a function of the
document id, so a caller knows which documents any filter keeps without asking the index.

`bucket` is uniform over 0..999, so {"range": {"bucket": {"lt": n}}} keeps about n/1000 of a corpus:
n = 500, 100, 10, 1 are the 50%, 10%, 1%, 0.1% selectivities. Never used for quality claims.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BUCKETS = 1000


def bucket(doc_id: str) -> int:
    """0..999, fixed per id."""
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % BUCKETS


def metadata_of(doc_id: str) -> dict[str, Any]:
    """An integer, a keyword and a date per document."""
    value = bucket(doc_id)
    return {"bucket": value, "category": f"c{value % 7}", "published": f"{1990 + value % 30}-06-01"}


def selectivity_filter(fraction: float) -> dict[str, Any]:
    """The filter keeping about `fraction` of the documents."""
    return {"range": {"bucket": {"lt": max(1, round(fraction * BUCKETS))}}}


def write_side_file(doc_ids: Iterable[str], path: Path) -> Path:
    """A metadata side file (`braid index --metadata`) for these documents."""
    with path.open("w", encoding="utf-8") as handle:
        for doc_id in doc_ids:
            handle.write(json.dumps({"_id": doc_id, **metadata_of(doc_id)}) + "\n")
    return path


__all__ = ["BUCKETS", "bucket", "metadata_of", "selectivity_filter", "write_side_file"]
