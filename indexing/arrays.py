"""Reading .npy/.npz files from several threads at once.

numpy parses each array's header with `ast.literal_eval`, and CPython 3.11's parser is not safe to
run in two threads at the same moment ("SystemError: AST constructor recursion depth mismatch",
seen when the retrievers of an engine load their segments in parallel). Every index array is read
through here, one header at a time; the data itself is read or mapped outside the lock.
"""

from __future__ import annotations

import struct
import threading
import zipfile
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


# A zip member's local header: 30 fixed bytes, then its file name and extra field (lengths at 26, 28).
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def map_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, memory-mapped where the member is stored uncompressed (as braid
    writes them): opening costs no reading, and processes serving one index share its pages.
    Compressed members are read into memory."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        compressed = []
        for member in archive.infolist():
            name = member.filename.removesuffix(".npy")
            if member.compress_type != zipfile.ZIP_STORED:
                compressed.append(name)
                continue
            raw.seek(member.header_offset)
            fields = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
            raw.seek(member.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10])
            with _HEADERS:
                version = np.lib.format.read_magic(raw)
                if version not in _HEADER_READERS:
                    compressed.append(name)
                    continue
                shape, fortran, dtype = _HEADER_READERS[version](raw)
            if dtype.hasobject or fortran:
                compressed.append(name)
                continue
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape) if count else np.zeros(shape, dtype=dtype)
        if compressed:
            with _HEADERS, np.load(path) as archive_arrays:
                arrays |= {name: archive_arrays[name] for name in compressed}
    return arrays
