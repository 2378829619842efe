"""A segment's metadata as columns (metadata.npz), so that a filter is a few numpy comparisons.

Numbers, booleans (0/1) and dates (microseconds since 1970 UTC) are one float64 per document, NaN
where the field is missing (inputs are finite, so NaN is free; float64 holds integers exactly up to
2**53). A keyword field is one int32 code per document (-1: missing) into its sorted vocabulary; a
keywords field lists each document's codes between offsets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from braid.fusion.errors import BraidError
from braid.indexing.arrays import load_arrays
from braid.indexing.layout import METADATA_FILE
from braid.indexing.metadata import BOOLEAN, DATE, DESCRIBED, FAMILY, KEYWORD, KEYWORDS, Metadata, column_type, family_of, parse_date, value_kind


@dataclass(frozen=True)
class NumberColumn:
    """integer, float, boolean or date values; NaN = missing."""

    kind: str
    values: np.ndarray

    def present(self) -> np.ndarray:
        return ~np.isnan(self.values)

    def equals_any(self, wanted: Sequence[float]) -> np.ndarray:
        return np.isin(self.values, np.asarray(wanted, dtype=np.float64))

    def between(self, low: float | None, low_inclusive: bool, high: float | None, high_inclusive: bool) -> np.ndarray:
        mask = self.present()
        if low is not None:
            mask &= self.values >= low if low_inclusive else self.values > low
        if high is not None:
            mask &= self.values <= high if high_inclusive else self.values < high
        return mask


@dataclass(frozen=True)
class KeywordColumn:
    """One string per document: codes into a sorted vocabulary, -1 = missing."""

    kind: str
    codes: np.ndarray
    vocabulary: list[str]

    def present(self) -> np.ndarray:
        return self.codes >= 0

    def equals_any(self, wanted: Sequence[str]) -> np.ndarray:
        return np.isin(self.codes, _codes_of(self.vocabulary, wanted))


@dataclass(frozen=True)
class KeywordsColumn:
    """Any number of strings per document: document d's codes are codes[offsets[d]:offsets[d+1]]."""

    kind: str
    offsets: np.ndarray
    codes: np.ndarray
    vocabulary: list[str]

    def present(self) -> np.ndarray:
        return np.diff(self.offsets) > 0

    def equals_any(self, wanted: Sequence[str]) -> np.ndarray:
        hits = np.isin(self.codes, _codes_of(self.vocabulary, wanted))
        owners = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        mask = np.zeros(len(self.offsets) - 1, dtype=bool)
        mask[owners[hits]] = True
        return mask


Column = NumberColumn | KeywordColumn | KeywordsColumn


def _codes_of(vocabulary: list[str], wanted: Sequence[str]) -> np.ndarray:
    positions = np.searchsorted(np.asarray(vocabulary, dtype=object), np.asarray(list(wanted), dtype=object)) if vocabulary else np.empty(0, dtype=np.int64)
    return np.asarray([int(p) for p, value in zip(positions, wanted) if p < len(vocabulary) and vocabulary[p] == value], dtype=np.int64)


@dataclass(frozen=True)
class MetadataColumns:
    """Every metadata column of one segment (`docs` documents); a field it lacks is missing throughout."""

    docs: int
    columns: dict[str, Column]

    @property
    def schema(self) -> dict[str, str]:
        return {name: column.kind for name, column in self.columns.items()}

    @classmethod
    def load(cls, folder: Path, docs: int) -> MetadataColumns:
        path = folder / METADATA_FILE
        if not path.is_file():
            return cls(docs, {})
        with load_arrays(path) as arrays:
            fields = json.loads(bytes(arrays["schema"]).decode("utf-8"))
            columns: dict[str, Column] = {}
            for number, (name, spec) in enumerate(fields.items()):
                kind = spec["type"]
                if kind == KEYWORD:
                    columns[name] = KeywordColumn(kind, arrays[f"{number}.codes"], spec["vocabulary"])
                elif kind == KEYWORDS:
                    columns[name] = KeywordsColumn(kind, arrays[f"{number}.offsets"], arrays[f"{number}.codes"], spec["vocabulary"])
                else:
                    columns[name] = NumberColumn(kind, arrays[f"{number}.values"])
        return cls(docs, columns)


class MetadataColumnsWriter:
    """Collects each document's metadata during a build and writes the segment's columns.

    `declared` is the type the index already holds per field (a write to a built index): new values
    must be of its family, and strings keep its type (a date field's strings must be dates)."""

    def __init__(self, declared: Mapping[str, str] | None = None) -> None:
        self.declared = dict(declared or {})
        self._values: dict[str, list[tuple[int, Any]]] = {}
        self._ids: list[str] = []

    def add(self, doc_id: str, metadata: Metadata | None) -> None:
        """Readers check families with file and line; this check names documents (Python writes)."""
        ordinal = len(self._ids)
        self._ids.append(doc_id)
        for name, value in (metadata or {}).items():
            known = self.declared.get(name)
            if known is not None and FAMILY[known] != family_of(value):
                raise BraidError(f"document {doc_id!r}: field {name!r} holds {value_kind(value)}, but the index holds {DESCRIBED[known]} in it")
            column = self._values.setdefault(name, [])
            if column and family_of(column[0][1]) != family_of(value):
                first_ordinal, first = column[0]
                raise BraidError(
                    f"document {doc_id!r}: field {name!r} holds {value_kind(value)}, but {value_kind(first)} in document {self._ids[first_ordinal]!r}"
                )
            column.append((ordinal, value))

    def finish(self, folder: Path) -> dict[str, str]:
        """Write metadata.npz into `folder` (nothing when no document has metadata); returns the schema."""
        if not self._values:
            return {}
        docs = len(self._ids)
        fields: dict[str, dict[str, Any]] = {}
        arrays: dict[str, np.ndarray] = {}
        for number, name in enumerate(sorted(self._values)):
            pairs = self._values[name]
            kind = column_type([value for _, value in pairs], self.declared.get(name))
            ordinals = np.fromiter((ordinal for ordinal, _ in pairs), dtype=np.int64, count=len(pairs))
            if kind in (KEYWORD, KEYWORDS):
                lists = [[value] if isinstance(value, str) else value for _, value in pairs]
                vocabulary = sorted({item for items in lists for item in items})
                code = {item: position for position, item in enumerate(vocabulary)}
                fields[name] = {"type": kind, "vocabulary": vocabulary}
                if kind == KEYWORD:
                    codes = np.full(docs, -1, dtype=np.int32)
                    codes[ordinals] = [code[items[0]] for items in lists]
                    arrays[f"{number}.codes"] = codes
                else:
                    counts = np.zeros(docs, dtype=np.int64)
                    counts[ordinals] = [len(items) for items in lists]
                    arrays[f"{number}.offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
                    arrays[f"{number}.codes"] = np.fromiter((code[item] for items in lists for item in items), dtype=np.int32)
            else:
                values = np.full(docs, np.nan, dtype=np.float64)
                values[ordinals] = [self._number(kind, name, self._ids[ordinal], value) for ordinal, value in pairs]
                fields[name] = {"type": kind}
                arrays[f"{number}.values"] = values
        arrays["schema"] = np.frombuffer(json.dumps(fields).encode("utf-8"), dtype=np.uint8)
        with (folder / METADATA_FILE).open("wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
        return {name: spec["type"] for name, spec in fields.items()}

    def _number(self, kind: str, name: str, doc_id: str, value: Any) -> float:
        if kind == BOOLEAN:
            return 1.0 if value else 0.0
        if kind == DATE:
            moment = parse_date(value)
            if moment is None:
                raise BraidError(f"document {doc_id!r}: field {name!r} holds {value!r}, which is not an ISO 8601 date (the index holds dates in it)")
            return float(moment)
        return float(value)
