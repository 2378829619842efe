"""Query encoders shared by every retriever of a process with the same model settings, so that an
engine moved to a new generation (refresh) keeps its loaded models instead of loading them again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

Config = TypeVar("Config", bound=Hashable)
Encoder = TypeVar("Encoder")

_shared: dict[tuple[object, Hashable], object] = {}
_lock = threading.Lock()


def shared_encoder(make: Callable[[Config], Encoder], config: Config) -> Encoder:
    """The process's one `make(config)` (models load lazily, at the first query)."""
    key = (make, config)
    with _lock:
        if key not in _shared:
            _shared[key] = make(config)
        return _shared[key]  # type: ignore[return-value]
