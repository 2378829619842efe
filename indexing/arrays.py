"""Reading .npy/.npz files from several threads at once.

numpy parses each array's header with `ast.literal_eval`, and CPython 3.11's parser is not safe to
run in two threads at the same moment ("SystemError: AST constructor recursion depth mismatch",
seen when the retrievers of an engine load their segments in parallel). Every index array is read
through here, one header at a time; the data itself is read or mapped outside the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

_HEADERS = threading.Lock()


def load_array(path: Path, mmap: bool = False) -> np.ndarray:
    with _HEADERS:
        return np.load(path, mmap_mode="r" if mmap else None)


@contextmanager
def load_arrays(path: Path) -> Iterator[dict[str, Any]]:
    """Every array of an .npz file (headers are parsed as each is read, so all are read here)."""
    with _HEADERS, np.load(path) as archive:
        yield {name: archive[name] for name in archive.files}
