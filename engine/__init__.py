"""Searching an index: `Engine.open(path).search("query", k=10)`.

Exports resolve lazily so that `braid.engine.errors` (used everywhere) imports nothing else.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Engine": "braid.engine.engine",
    "Hit": "braid.engine.hits",
    "BraidError": "braid.engine.errors",
    "DataError": "braid.engine.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'braid.engine' has no attribute {name!r}")
