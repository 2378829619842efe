"""Stream documents and queries out of BEIR, MS MARCO and plain JSONL files.

Readers yield one record at a time so that indexing never holds a corpus in memory, and every
error names the file and line, because corpora are large and users need to find the bad row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braid.fusion.errors import BraidError, DataError
from braid.indexing.metadata import Metadata, family_of, flatten, value_kind

_ID_FIELDS = ("_id", "id", "docid")
_TEXT_FIELDS = ("text", "contents", "body")
# Not metadata: what id, title and text are read from, and BEIR's metadata object itself.
_RESERVED = frozenset((*_ID_FIELDS, "title", *_TEXT_FIELDS, "metadata"))


@dataclass(frozen=True, slots=True)
class Document:
    """One document; `metadata` holds its filterable fields in flat form (see indexing/metadata.py)."""

    doc_id: str
    title: str
    text: str
    metadata: Metadata | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class Query:
    query_id: str
    text: str


def count_lines(path: str | Path) -> int | None:
    """Lines in a corpus file, counted in raw blocks (about a second per gigabyte): the total that
    lets a progress bar show time left. None when the file cannot be read."""
    try:
        with Path(path).open("rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, decoded line) for non-blank lines, failing on the first non-UTF-8 line."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise DataError(path, None, f"cannot read: {error.strerror or error}") from error
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(path, number, f"not UTF-8 (byte {error.start}: {raw[error.start : error.start + 1]!r})") from None
            if line.strip():
                yield number, line.rstrip("\r\n")


def json_object(path: Path, number: int, line: str) -> dict:
    """One JSONL line as an object, or a one-line error naming `path:number`."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(path, number, f"malformed JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise DataError(path, number, f"expected a JSON object, got {type(record).__name__}")
    for name, value in record.items():
        if isinstance(value, str) and _unpaired_surrogate(value):
            # JSON's \ud800 escapes decode to text no file or database can store.
            raise DataError(path, number, f"field {name!r} holds an unpaired UTF-16 surrogate escape (e.g. \\ud800), which is not text")
    return record


def _unpaired_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _string_field(record: dict, names: tuple[str, ...], path: Path, number: int, required: bool) -> str:
    for name in names:
        if name in record and record[name] is not None:
            value = record[name]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            if not isinstance(value, str):
                raise DataError(path, number, f"field {name!r} must be a string, got {type(value).__name__}")
            return value
    if required:
        raise DataError(path, number, f"missing field {' or '.join(repr(n) for n in names)}")
    return ""


def _checked_id(value: str, path: Path, number: int, what: str) -> str:
    if not value.strip():
        raise DataError(path, number, f"empty {what}")
    if any(character.isspace() for character in value):
        raise DataError(path, number, f"{what} {value!r} contains white space, which TREC run files cannot hold")
    return value


def _jsonl_documents(path: Path) -> Iterator[tuple[int, Document]]:
    for number, line in numbered_lines(path):
        record = json_object(path, number, line)
        doc_id = _checked_id(_string_field(record, _ID_FIELDS, path, number, True), path, number, "document id")
        title = _string_field(record, ("title",), path, number, False)
        text = _string_field(record, _TEXT_FIELDS, path, number, False)
        yield number, Document(doc_id, title, text, _record_metadata(record, path, number))


def _record_metadata(record: dict, path: Path, number: int) -> Metadata | None:
    """BEIR's `metadata` object and every other field beyond id, title and text, flattened."""
    nested = record.get("metadata")
    if nested is not None and not isinstance(nested, dict):
        raise DataError(path, number, f"field 'metadata' must be an object, got {type(nested).__name__}")
    extra = {name: value for name, value in record.items() if name not in _RESERVED}
    try:
        flat = flatten(nested or {})
        for name, value in flatten(extra).items():
            if name in flat:
                raise BraidError(f"field {name!r} is given both at the top level and inside 'metadata'")
            flat[name] = value
    except BraidError as error:
        raise DataError(path, number, str(error)) from None
    return flat or None


def read_metadata(path: str | Path) -> Iterator[tuple[int, str, Metadata]]:
    """A metadata side file: one JSON object per line, its id in `_id` or `id`, its other fields
    (or a `metadata` object) the document's metadata; yields (line, doc id, flat metadata)."""
    path = Path(path)
    seen: set[str] = set()
    for number, line in numbered_lines(path):
        record = json_object(path, number, line)
        doc_id = _checked_id(_string_field(record, _ID_FIELDS, path, number, True), path, number, "document id")
        if doc_id in seen:
            raise DataError(path, number, f"document id {doc_id!r} appears twice")
        seen.add(doc_id)
        yield number, doc_id, _record_metadata(record, path, number) or {}


class _FieldFamilies:
    """Where each metadata field was first seen and as what, so a conflict names both places."""

    def __init__(self) -> None:
        self._first: dict[str, tuple[str, Path, int]] = {}

    def check(self, metadata: Metadata | None, path: Path, number: int) -> None:
        for name, value in (metadata or {}).items():
            family = family_of(value)
            known = self._first.setdefault(name, (family, path, number))
            if known[0] != family:
                where = f"line {known[2]}" if known[1] == path else f"{known[1]}:{known[2]}"
                raise DataError(path, number, f"field {name!r} holds {value_kind(value)} here but {_family_words(known[0])} at {where}")


def _family_words(family: str) -> str:
    return {"string": "a string", "number": "a number", "boolean": "true/false"}[family]


def _tsv_documents(path: Path) -> Iterator[tuple[int, Document]]:
    """`id<TAB>text` (MS MARCO) or `id<TAB>title<TAB>text`; any other column count is refused."""
    for number, line in numbered_lines(path):
        columns = line.split("\t")
        if len(columns) == 2:
            doc_id, title, text = columns[0], "", columns[1]
        elif len(columns) == 3:
            doc_id, title, text = columns
        else:
            raise DataError(path, number, f"expected 'id<TAB>text' or 'id<TAB>title<TAB>text', found {len(columns)} column(s)")
        yield number, Document(_checked_id(doc_id, path, number, "document id"), title, text)


def _jsonl_queries(path: Path) -> Iterator[tuple[int, Query]]:
    for number, line in numbered_lines(path):
        record = json_object(path, number, line)
        query_id = _checked_id(_string_field(record, ("_id", "id", "qid"), path, number, True), path, number, "query id")
        yield number, Query(query_id, _string_field(record, ("text", "query", "contents"), path, number, True))


def _tsv_queries(path: Path) -> Iterator[tuple[int, Query]]:
    for number, line in numbered_lines(path):
        query_id, tab, text = line.partition("\t")
        if not tab:
            raise DataError(path, number, "expected 'id<TAB>query text'")
        yield number, Query(_checked_id(query_id, path, number, "query id"), text)


def read_corpus(path: str | Path, metadata: str | Path | None = None) -> Iterator[Document]:
    """Stream a corpus: BEIR `corpus.jsonl` ({"_id", "title", "text"}), plain JSONL ({"id", "contents"}),
    or MS MARCO `collection.tsv` (`id<TAB>text`, or `id<TAB>title<TAB>text`; chosen by the `.tsv` suffix).

    JSONL documents carry metadata in BEIR's `metadata` object and any other field; `metadata`
    names a side file (see read_metadata) adding fields by id, e.g. for a TSV corpus. A repeated
    document id is an error: it would silently shadow a document in every index.
    """
    path = Path(path)
    rows = _tsv_documents(path) if path.suffix == ".tsv" else _jsonl_documents(path)
    families = _FieldFamilies()
    side: dict[str, tuple[int, Metadata]] = {}
    side_path = Path(metadata) if metadata is not None else None
    if side_path is not None:
        for number, doc_id, fields in read_metadata(side_path):
            families.check(fields, side_path, number)
            side[doc_id] = (number, fields)
    seen: set[str] = set()
    for number, document in rows:
        if document.doc_id in seen:
            raise DataError(path, number, f"document id {document.doc_id!r} appears twice")
        seen.add(document.doc_id)
        families.check(document.metadata, path, number)
        if document.doc_id in side:
            document = _with_side_metadata(document, side.pop(document.doc_id), path, number, side_path)
        yield document
    if side:
        doc_id, (number, _) = min(side.items(), key=lambda item: item[1][0])
        raise DataError(side_path, number, f"document id {doc_id!r} is not in the corpus {path} ({len(side)} such id(s))")


def _with_side_metadata(document: Document, found: tuple[int, Metadata], path: Path, number: int, side_path: Path | None) -> Document:
    side_line, fields = found
    merged = dict(document.metadata or {})
    for name, value in fields.items():
        if name in merged:
            raise DataError(path, number, f"field {name!r} of document {document.doc_id!r} is also given by {side_path}:{side_line}")
        merged[name] = value
    return Document(document.doc_id, document.title, document.text, merged or None)


def write_corpus(path: str | Path, documents: Iterable[Document]) -> Path:
    """Write documents as a BEIR `corpus.jsonl` (what read_corpus reads back unchanged)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as handle:
        for document in documents:
            record: dict[str, Any] = {"_id": document.doc_id, "title": document.title, "text": document.text}
            if document.metadata:
                record["metadata"] = _nested(document.metadata)
            handle.write(json.dumps(record) + "\n")
    return path


def _nested(metadata: Metadata) -> dict[str, Any]:
    """Dotted names back into objects (what flatten reads back to the same flat dict)."""
    nested: dict[str, Any] = {}
    for name, value in metadata.items():
        *parents, last = name.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return nested


def read_queries(path: str | Path) -> dict[str, Query]:
    """All queries of a BEIR `queries.jsonl` or MS MARCO `queries.*.tsv`, by id, in file order."""
    path = Path(path)
    rows = _tsv_queries(path) if path.suffix == ".tsv" else _jsonl_queries(path)
    queries: dict[str, Query] = {}
    for number, query in rows:
        if query.query_id in queries:
            raise DataError(path, number, f"query id {query.query_id!r} appears twice")
        queries[query.query_id] = query
    return queries
