"""Recently encoded queries, so a query's vector is computed once per search even when fusion asks a
retriever twice (its list, then exact scores for the other retrievers' candidates)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any


class QueryCache:
    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], encode_batch: Callable[[list[str]], list[Any]]) -> list[Any]:
        """Vectors for `texts`, encoding only those not seen recently (in one batch)."""
        with self._lock:
            known = {text: self._entries[text] for text in texts if text in self._entries}
            for text in known:
                self._entries.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            fresh = dict(zip(missing, encode_batch(missing)))
            known.update(fresh)
            with self._lock:
                self._entries.update(fresh)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        return [known[text] for text in texts]

    def put(self, texts: Sequence[str], rows: Sequence[Any]) -> None:
        """Keep encodings made elsewhere (a sharded search encodes each query once, then ships it)."""
        with self._lock:
            self._entries.update(zip(texts, rows))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
