"""A filter applied to one generation: which live documents it keeps, in the retrievers' column order."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from braid.engine.filters import Filter, canonical, fields_used, matching, parse_filter
from braid.indexing.metadata_columns import MetadataColumns
from braid.indexing.segments import Segment

# Masks kept per generation: a page of results or a benchmark repeats one filter many times.
_CACHED_MASKS = 64


@dataclass(frozen=True)
class AppliedFilter:
    """`allowed[i]`: the i-th live document (LiveDocStore.ids() order) matches; `matched` of `total`."""

    query: Filter
    text: str  # the filter as canonical JSON
    allowed: np.ndarray
    matched: int
    total: int

    def describe(self) -> str:
        return f"filter applied: {self.matched:,} of {self.total:,} documents match"

    def to_dict(self) -> dict[str, Any]:
        """What a JSON answer reports: the filter's fields and how many live documents it keeps."""
        return {"filter": json.loads(self.text), "fields": list(fields_used(self.query)), "matched": self.matched, "documents": self.total}


class FilterMasks:
    """The metadata columns of a generation's segments (read at the first filter), and the masks
    filters give over its live documents."""

    def __init__(self, segments: Sequence[Segment], schema: Mapping[str, str]) -> None:
        self._segments = list(segments)
        self.schema = dict(schema)
        self._columns: list[MetadataColumns] | None = None
        self._cache: OrderedDict[str, AppliedFilter] = OrderedDict()
        self._lock = threading.Lock()

    def apply(self, raw: Mapping[str, Any] | str) -> AppliedFilter:
        """Parse and check `raw` against the index's fields, then evaluate it (cached by its text)."""
        query = parse_filter(raw, self.schema)  # raises FilterError before any cache lookup
        key = canonical(raw)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
            if self._columns is None:
                self._columns = [MetadataColumns.load(segment.folder, len(segment.doc_ids)) for segment in self._segments]
            columns = self._columns
        parts = []
        for segment, segment_columns in zip(self._segments, columns):
            mask = matching(query, segment_columns)
            parts.append(mask if segment.live is None else mask[segment.live])
        allowed = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        applied = AppliedFilter(query, key, allowed, int(np.count_nonzero(allowed)), len(allowed))
        with self._lock:
            self._cache[key] = applied
            while len(self._cache) > _CACHED_MASKS:
                self._cache.popitem(last=False)
        return applied
