"""A generation's live doc ids by ordinal, made once and shared by its views: fused search works on
ordinals and needs ids only for the hits it returns, and their order only to break ties."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from braid.engine.sparse_topk import doc_id_order, doc_positions


class DocOrdinals:
    def __init__(self, ids: Callable[[], Sequence[str]]) -> None:
        self._source = ids
        self._lock = threading.Lock()
        self._ids: np.ndarray | None = None
        self._tie_rank: np.ndarray | None = None
        self._position: dict[str, int] | None = None
        self._free_slots: list[np.ndarray] = []

    @property
    def ids(self) -> np.ndarray:
        """Doc id by ordinal (an object array: ids[ordinals] is one gather)."""
        with self._lock:
            if self._ids is None:
                self._ids = np.asarray(self._source(), dtype=object)
            return self._ids

    @property
    def tie_rank(self) -> np.ndarray:
        """Each ordinal's rank in ascending doc id order: fusion breaks ties by doc id with it."""
        ids = self.ids
        with self._lock:
            if self._tie_rank is None:
                self._tie_rank = doc_id_order(ids.tolist())
            return self._tie_rank

    @property
    def position(self) -> dict[str, int]:
        """Doc id -> ordinal, for lists given by doc id (a retriever without ordinals, Engine.fuse)."""
        ids = self.ids
        with self._lock:
            if self._position is None:
                self._position = doc_positions(ids.tolist())
            return self._position

    @contextmanager
    def slots(self) -> Iterator[np.ndarray]:
        """A lookup array over the ordinals, -1 everywhere, lent to one candidate table build at a
        time (CandidateTable.from_ordinals leaves it as it found it). Kept for reuse: filling a
        fresh one for 1M documents takes 0.28 ms, over ten times a single query's table built with it;
        one is kept per concurrent search, not per thread, which bounds the memory."""
        with self._lock:
            slots = self._free_slots.pop() if self._free_slots else None
        if slots is None:
            slots = np.full(len(self.ids), -1, dtype=np.int64)
        try:
            yield slots
        finally:
            with self._lock:
                self._free_slots.append(slots)
